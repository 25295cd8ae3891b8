"""Text mining of service interactions: complaint type, sentiment, products mentioned.

Tickets, chats, call transcripts and reviews in Chinese (segmented with jieba) and English become
structured tags. A scikit-learn classifier (TF-IDF words + characters, logistic regression) trained
on a labelled corpus predicts the complaint type and the sentiment; lexicon rules from YAML fill
its gaps or overrule it; product lexicons and catalogue names find the products mentioned.

Example::

    from custodia.collect.text_mining import (
        TextInput, TextTagger, default_config, read_corpus, train_on_corpus,
    )

    outcome = train_on_corpus(read_corpus(Path("demo-data")), seed=7)
    tagger = TextTagger(outcome.model, default_config())
    tagger.tag([TextInput("快递太慢了，等了五天还没到", "zh")])[0].complaint_type
    # 'logistics_delay'
"""

from custodia.collect.text_mining.categories import (
    COMPLAINT_TYPES,
    LABEL_ALIASES,
    OTHER,
    SENTIMENTS,
    complaint_for_label,
    sentiment_for_label,
)
from custodia.collect.text_mining.config import (
    ProductEntry,
    TextMiningConfig,
    TextRule,
    default_config,
    default_config_text,
    load_text_mining_config,
)
from custodia.collect.text_mining.corpus import (
    LabelledText,
    describe_corpus,
    read_corpus,
    read_demo_corpus,
    read_labelled_csv,
)
from custodia.collect.text_mining.evaluate import ClassScore, LabelScores, score_labels
from custodia.collect.text_mining.model import TextModel
from custodia.collect.text_mining.persistence import (
    CorpusInfo,
    ModelMetadata,
    library_versions,
    load_text_model,
    save_text_model,
    text_model_exists,
)
from custodia.collect.text_mining.products import ProductFinder, base_product_name
from custodia.collect.text_mining.rules import Decision, ModelAnswer, RuleBook
from custodia.collect.text_mining.tagger import TextInput, TextTagger, TextTags
from custodia.collect.text_mining.tokenize import (
    TextTokenizer,
    detect_language,
    fold_text,
    normalize_text,
)
from custodia.collect.text_mining.training import (
    TrainingOutcome,
    evaluate_model,
    fit_corpus,
    lexicon_examples,
    train_on_corpus,
)

__all__ = [
    "COMPLAINT_TYPES",
    "LABEL_ALIASES",
    "OTHER",
    "SENTIMENTS",
    "ClassScore",
    "CorpusInfo",
    "Decision",
    "LabelScores",
    "LabelledText",
    "ModelAnswer",
    "ModelMetadata",
    "ProductEntry",
    "ProductFinder",
    "RuleBook",
    "TextInput",
    "TextMiningConfig",
    "TextModel",
    "TextRule",
    "TextTagger",
    "TextTags",
    "TextTokenizer",
    "TrainingOutcome",
    "base_product_name",
    "complaint_for_label",
    "default_config",
    "default_config_text",
    "describe_corpus",
    "detect_language",
    "evaluate_model",
    "fit_corpus",
    "fold_text",
    "lexicon_examples",
    "library_versions",
    "load_text_mining_config",
    "load_text_model",
    "normalize_text",
    "read_corpus",
    "read_demo_corpus",
    "read_labelled_csv",
    "save_text_model",
    "score_labels",
    "sentiment_for_label",
    "text_model_exists",
    "train_on_corpus",
]
