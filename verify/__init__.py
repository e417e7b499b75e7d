"""The verify layer: hypothesis strategies and properties, the suite runner, reports, the CLI."""
