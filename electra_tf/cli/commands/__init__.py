"""One module per `electra-tf` subcommand; `electra_tf.cli.main` discovers them."""
