"""Networks (Model Garden's "networks" level): layers combined, not trained alone."""

from electra_tf.networks.discriminator import ElectraDiscriminator
from electra_tf.networks.encoder import ElectraEncoder
from electra_tf.networks.generator import ElectraGenerator

__all__ = ["ElectraDiscriminator", "ElectraEncoder", "ElectraGenerator"]
