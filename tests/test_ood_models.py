"""Models: ResNet-18 (CIFAR variant) and the small CNN, forward/backward and the init multiplier."""

import pytest
import torch

from numerics.ood.models import ResNet18, build_model
from tests.ood_helpers import one_torch_thread  # noqa: F401
from theory.errors import InputError


@pytest.mark.parametrize("name,width", [("resnet18", 512), ("small_cnn", 32)])
def test_forward_backward_tiny_batch(name, width):
    # a batch of 2 full-size dominoes; on one torch thread (module fixture) ResNet-18 takes
    # about 1.5 s here in float64
    m = build_model(name, 2.0 ** -5, seed=0)
    x = torch.randn(2, 3, 64, 32, dtype=torch.float64)
    assert m.features(x).shape == (2, width)
    out = m(x)
    assert out.shape == (2, 10) and out.dtype == torch.float64
    torch.nn.functional.cross_entropy(out, torch.tensor([1, 7])).backward()
    grads = [p.grad for p in m.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_resnet18_architecture():
    m = ResNet18()
    conv1 = m.stem[0]
    assert conv1.kernel_size == (3, 3) and conv1.stride == (1, 1)
    assert isinstance(m.stem[3], torch.nn.Identity)  # no max-pool
    assert isinstance(ResNet18(maxpool=True).stem[3], torch.nn.MaxPool2d)
    n_params = sum(p.numel() for p in m.parameters())
    assert n_params == 11_173_962  # torchvision's resnet18 with a 3x3 stem and 10 classes


@pytest.mark.parametrize("name", ["small_cnn", "resnet18"])
def test_init_scale_multiplies_every_parameter(name):
    ref = build_model(name, 1.0, seed=3)
    small = build_model(name, 2.0 ** -5, seed=3)
    other_seed = build_model(name, 1.0, seed=4)
    for a, b in zip(ref.parameters(), small.parameters()):
        torch.testing.assert_close(b, a * 2.0 ** -5, rtol=0, atol=0)  # exact: power of two
    # a wrong multiplier is rejected, and the seed matters
    p_ref, p_small = next(ref.parameters()), next(small.parameters())
    assert not torch.equal(p_small, p_ref * 2.0 ** -4)
    assert not torch.equal(next(other_seed.parameters()), p_ref)
    for (k, a), (_, b) in zip(ref.named_buffers(), small.named_buffers()):
        assert torch.equal(a, b), k  # BN running statistics are buffers, not scaled


def test_build_model_leaves_global_rng_alone_and_rejects_bad_input():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_model("small_cnn", 1.0, seed=0)
    assert torch.equal(torch.rand(3), expected)
    with pytest.raises(InputError, match="unknown model"):
        build_model("vgg", 1.0, 0)
    with pytest.raises(InputError, match="positive"):
        build_model("small_cnn", 0.0, 0)
