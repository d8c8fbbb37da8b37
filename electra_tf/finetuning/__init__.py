"""Fine-tuning the discriminator into task models: examples, readers, task presets, features and metrics."""
