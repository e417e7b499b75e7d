"""Mid-training features and OOD transfer (paper §6, Figure 3): domino data (MNIST/CIFAR-10
readers and an offline default), ResNet-18 and a small CNN with an init multiplier, training with
the paper's schedule, checkpointed and exactly resumable runs, logistic-regression probes of the
average-pool features, and the paired t-test of mid-training against final OOD accuracy."""

from .dominoes import OOD_SETS, DominoData, ImagePool, build_dominoes
from .experiment import ExperimentConfig, collect, format_table, run_experiment
from .models import ResNet18, SmallCNN, build_model
from .probe import probe_accuracy, probe_all
from .stats import paired_test, ttest_table
from .train import RunConfig, train_run

__all__ = ["OOD_SETS", "DominoData", "ExperimentConfig", "ImagePool", "ResNet18", "RunConfig",
           "SmallCNN", "build_dominoes", "build_model", "collect", "format_table",
           "paired_test", "probe_accuracy", "probe_all", "run_experiment", "train_run",
           "ttest_table"]
