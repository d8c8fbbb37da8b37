"""Models (Model Garden's "models" level): what you train."""

from electra_tf.models.pretrainer import ElectraPretrainer
from electra_tf.models.question_answerer import ElectraQuestionAnswerer
from electra_tf.models.sequence_classifier import ElectraSequenceClassifier
from electra_tf.models.token_tagger import ElectraTokenTagger

__all__ = ["ElectraPretrainer", "ElectraQuestionAnswerer", "ElectraSequenceClassifier", "ElectraTokenTagger"]
