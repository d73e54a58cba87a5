"""The bot's intent classifier: TF-IDF n-grams and a sentence embedding, a linear SVM, Platt scaling.

Why not Rasa's LogisticRegressionClassifier
    With word and char_wb 1-4 counts it reaches a 5-fold cross-validated macro-F1 of about 0.90
    on data/nlu; this component about 0.94. It also computes its own features from the message
    text instead of reading Rasa's sparse featurizers: Rasa's classifier spends most of its
    ~2.5 ms per message stacking scipy matrices (`Message.get_sparse_features`,
    `hstack`/`vstack`), while this one needs about 0.2 ms.

    The candidates, in scikit-learn on the 3,292 examples of data/nlu at the time,
    StratifiedKFold(5, shuffle=True, random_state=42); "fit s" is one fold's training on the
    2-core machine while it was busy with other jobs:

    | features                                    | classifier                     | macro-F1 | accuracy | fit s |
    | ------------------------------------------- | ------------------------------ | -------- | -------- | ----- |
    | counts: words + char_wb 1-4 (Rasa's, ~)     | LogisticRegression, balanced   | 0.897    | 0.882    | 37    |
    | TF-IDF: words 1-2 + char_wb 2-5, sublinear  | LogisticRegression C=10        | 0.922    | 0.907    | 14    |
    | the same                                    | LogisticRegression C=30, bal.  | 0.929    | 0.916    | 10    |
    | the same, text normalised (see below)       | LogisticRegression C=30, bal.  | 0.930    | 0.919    | 9     |
    | the same                                    | LogisticRegression C=100       | 0.931    | 0.918    | 11    |
    | the same                                    | SGD, modified Huber loss       | 0.911    | 0.895    | 0.4   |
    | the same                                    | LinearSVC C=0.5, balanced      | 0.928    | 0.916    | 0.4   |
    | the same                                    | LinearSVC C=1 (no probability) | 0.937    | 0.925    | 0.4   |
    | the same                                    | LinearSVC + softmax(score / T) | 0.937    | 0.925    | 1.2   |
    | the same                                    | LinearSVC + Platt, 5 models    | 0.936    | 0.925    | 1.2   |
    | the same                                    | LinearSVC + Platt (this one)   | 0.942    | 0.932    | 1.3   |

    With other fold seeds (7, 123) Platt scaling stayed ahead of the temperature-scaled softmax
    (0.939 / 0.941 against about 0.935). LinearSVC C=1 with other n-grams: words alone 0.912,
    characters alone 0.919, words 1-3 0.934, char_wb 1-5 0.937, 2-6 0.934, 3-5 0.934; without
    the text normalisation 0.934. C = 0.5 / 1 / 2 gave 0.933 / 0.937 / 0.937.
    This component on the current data (same folds), out-of-fold top confidences: right
    predictions median 0.92 (10th percentile 0.66), wrong ones median 0.57 (10th percentile
    0.44); 99.8 % of the predictions with a confidence of 0.9 or more are right, 78 % of those
    between 0.5 and 0.7, 44 % of those between 0.3 and 0.5.

The model
    text    lower-cased; e-mail addresses and order numbers (10xxxx, as in data/nlu/entities.yml)
            become one placeholder word each, and every other run of digits becomes "0", so
            that "order #104233" and "order 105871" are the same words to the classifier.
    words   scikit-learn's TfidfVectorizer: 1- and 2-grams of the \\w+ tokens, sublinear term
            frequency (1 + log tf), smooth idf, L2-normalised.
    chars   TfidfVectorizer with `analyzer="char_wb"`: 2- to 5-grams of characters inside word
            boundaries, weighted the same way. They carry short and misspelt messages ("thx",
            "helo", "yep").
    model   one-vs-rest linear SVM (`LinearSVC`), C = 1. Its scores are turned into
            probabilities by a sigmoid per intent (Platt scaling) fitted on out-of-fold scores
            of a 5-fold cross-validation (`CalibratedClassifierCV(..., method="sigmoid",
            ensemble=False)`), normalised to sum to 1, so the FallbackClassifier's threshold on
            the top confidence means what it says.

    embedding  with `embedding_weight` > 0, the message's all-MiniLM-L6-v2 sentence embedding
            (384 numbers of unit length, bot/nlu/onnx_encoder.py; int8 weights with
            `embedding_int8`) times that weight, after the n-gram columns. It carries what the
            n-grams miss: other words for the same request ("reimbursement" for a refund).
            Chosen with benchmarks/intent_features.py (README, "Choosing the pipeline").

    A message with no n-gram the model has seen (empty, only emoji or punctuation) gets the
    intent None with confidence 0.0, as Rasa's DIETClassifier does for a message without
    features; the FallbackClassifier then falls back.

Persistence
    The scikit-learn pipeline is saved with skops (as Rasa's own LogisticRegressionClassifier
    is), not pickle, and loaded trusting only the scikit-learn and numpy types it is made of.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.nlu.onnx_encoder import OnnxSentenceEncoder
from bot.nlu.sentence_encoder import EMBEDDING_SIZE

logger = logging.getLogger(__name__)

MODEL_FILE = "intent_classifier.skops"

_EMAIL = re.compile(r"\b[\w.%+-]+@[\w.-]+\.[a-z]{2,}\b", re.IGNORECASE)
_ORDER_NUMBER = re.compile(r"#?\b10\d{4}\b")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case; e-mails and order numbers to placeholders, other digit runs to "0"."""
    text = text.lower()
    text = _EMAIL.sub(" emailaddress ", text)
    text = _ORDER_NUMBER.sub(" ordernumber ", text)
    text = _DIGITS.sub("0", text)
    return _SPACES.sub(" ", text).strip()


@functools.lru_cache(maxsize=2)
def shared_encoder(int8: bool = True) -> OnnxSentenceEncoder:
    """One sentence encoder a process and kind, built when a model first needs it.

    ONNX Runtime's, which computes the vectors of bot.nlu.sentence_encoder's numpy reference
    about 3x faster for one message (benchmarks/sentence_encoder_speed.py); with `int8`, its
    weights quantised to 8 bits, about 2x faster again, at a cosine of 0.97 or more to the
    float vectors (and the same external accuracy: README, "Choosing the pipeline"). The
    quantised graph takes a few seconds to make: it is kept under the var folder's cache.
    """
    from bot.settings import Settings

    cache = Settings.from_env().var_dir / "cache" if int8 else None
    return OnnxSentenceEncoder(quantized=int8, cache_dir=cache)


def build_pipeline(config: dict[str, Any], folds: int) -> Pipeline:
    """TF-IDF word and character n-grams, then a linear SVM calibrated on `folds` folds."""
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    lowercase=False,
                    token_pattern=r"(?u)\b\w+\b",
                    ngram_range=(1, int(config["word_max_ngram"])),
                    sublinear_tf=True,
                    dtype=np.float64,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    lowercase=False,
                    analyzer="char_wb",
                    ngram_range=(int(config["char_min_ngram"]), int(config["char_max_ngram"])),
                    sublinear_tf=True,
                    dtype=np.float64,
                ),
            ),
        ]
    )
    svm = LinearSVC(C=float(config["C"]), random_state=int(config["random_state"]))
    # The sigmoids are fitted on out-of-fold scores, never on the scores of seen examples.
    calibrated = CalibratedClassifierCV(
        svm, method="sigmoid", cv=StratifiedKFold(folds), ensemble=False
    )
    return Pipeline([("features", features), ("classifier", calibrated)])


class MessageFeatures:
    """The fitted TF-IDF features of one message, computed as the vectorizers compute them.

    `FeatureUnion.transform` on a single text costs about 3 ms in scikit-learn 1.1, nearly
    all of it sparse-matrix bookkeeping (its `idf_` is rebuilt from a diagonal matrix on every
    call). This reads the fitted vectorizers (their own analyzers, vocabularies and idf) and
    does the same arithmetic for one text: sublinear tf times idf, L2-normalised per block.
    The unit tests check it against `transform` on real messages.
    """

    def __init__(self, features: FeatureUnion) -> None:
        self.blocks = []
        offset = 0
        for _name, vectorizer in features.transformer_list:
            if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
                raise ValueError("MessageFeatures computes sublinear, idf-weighted, L2 TF-IDF only")
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            self.blocks.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, idf, offset))
            offset += len(idf)
        self.size = offset

    def row(self, text: str) -> scipy.sparse.csr_matrix:
        """The 1 x n feature row of `text`."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for analyze, vocabulary, idf, offset in self.blocks:
            counts = Counter(vocabulary[t] for t in analyze(text) if t in vocabulary)
            if not counts:
                continue
            block = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), np.float64, len(counts)))) * idf[
                block
            ]
            norm = float(np.sqrt(weights @ weights))
            columns.append(block + offset)
            values.append(weights / norm if norm > 0 else weights)
        column = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        value = np.concatenate(values) if values else np.zeros(0)
        return scipy.sparse.csr_matrix(
            (value, column, np.array([0, len(column)])), shape=(1, self.size)
        )


class CalibratedScores:
    """The calibrated SVM's probabilities for one feature row, computed as scikit-learn does.

    `CalibratedClassifierCV.predict_proba` on one message costs about 1 ms in scikit-learn
    1.1: input checks, a label encoder fitted anew and one calibrator call per intent. The
    arithmetic is small: the SVM's scores (`coef_ . x + intercept_`), one Platt sigmoid per
    intent (`1 / (1 + exp(a * score + b))`), normalised to sum to 1. This reads the fitted
    model and does that; the unit tests check it against `predict_proba` on real messages.
    """

    def __init__(self, calibrated: CalibratedClassifierCV) -> None:
        (fitted,) = calibrated.calibrated_classifiers_  # ensemble=False: one
        svm = fitted.base_estimator
        self.classes = np.asarray(calibrated.classes_)
        if len(self.classes) < 3 or len(fitted.calibrators) != len(self.classes):
            raise ValueError("CalibratedScores computes one-vs-rest models of 3+ classes")
        order = np.searchsorted(self.classes, svm.classes_)  # the SVM's classes, sorted
        self.coef = np.ascontiguousarray(np.asarray(svm.coef_, dtype=np.float64).T)
        self.intercept = np.asarray(svm.intercept_, dtype=np.float64)
        self.a = np.array([c.a_ for c in fitted.calibrators], dtype=np.float64)
        self.b = np.array([c.b_ for c in fitted.calibrators], dtype=np.float64)
        self.order = order

    def probabilities(
        self, row: scipy.sparse.csr_matrix, dense: np.ndarray | None = None
    ) -> np.ndarray:
        """`predict_proba(x)[0]` for x = the 1 x n sparse `row`, then the `dense` values."""
        scores = row.data @ self.coef[row.indices] + self.intercept
        if dense is not None and len(dense):
            scores = scores + dense @ self.coef[row.shape[1] :]
        sigmoid = 1.0 / (1.0 + np.exp(self.a * scores + self.b))
        proba = np.zeros(len(self.classes))
        proba[self.order] = sigmoid
        total = proba.sum()
        proba = proba / total if total != 0 else np.full(len(proba), 1.0 / len(proba))
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


class IntentModel:
    """The fitted features and classifier: a message's text and sentence embedding in, intents out.

    `pipeline` holds the fitted pieces: "features", the TF-IDF `FeatureUnion` ("passthrough"
    for a model of embeddings alone), and "classifier", the calibrated SVM. With an
    `embedding_weight` above 0 the classifier's inputs are the TF-IDF columns followed by the
    message's sentence embedding times that weight, so the weight sets how much the embedding
    counts against the n-grams (both blocks are unit-length vectors).
    """

    def __init__(self, pipeline: Pipeline, embedding_weight: float) -> None:
        self.pipeline = pipeline
        self.embedding_weight = float(embedding_weight)
        union = pipeline.named_steps["features"]
        self.features = MessageFeatures(union) if union != "passthrough" else None
        classifier = pipeline.named_steps["classifier"]
        try:
            self.scores: CalibratedScores | None = CalibratedScores(classifier)
        except ValueError:  # two intents: scikit-learn's own predict_proba
            self.scores = None

    @property
    def classes(self) -> np.ndarray:
        return np.asarray(self.pipeline.named_steps["classifier"].classes_)

    @classmethod
    def fit(
        cls,
        texts: list[str] | None,
        vectors: np.ndarray | None,
        labels: np.ndarray,
        *,
        config: dict[str, Any] | None = None,
        embedding_weight: float = 1.0,
    ) -> IntentModel:
        """Fit on normalised `texts` (None: no n-grams) and/or their `vectors` (None: none)."""
        config = {**ShopIntentClassifier.get_default_config(), **(config or {})}
        _, counts = np.unique(labels, return_counts=True)
        folds = min(int(config["calibration_folds"]), int(counts.min()))
        features, classifier = build_pipeline(config, folds).steps
        if texts is None and vectors is None:
            raise ValueError("an intent model needs texts, vectors or both")
        weight = embedding_weight if vectors is not None else 0.0
        union: FeatureUnion | str = "passthrough"
        sparse = None
        if texts is not None:
            union = features[1]
            sparse = union.fit_transform(texts)
        classifier[1].fit(_combine(sparse, vectors, weight, len(labels)), labels)
        return cls(Pipeline([("features", union), classifier]), weight)

    def row(self, text: str) -> scipy.sparse.csr_matrix | None:
        """The n-gram row of a normalised text; None when the model reads n-grams and the text
        has none it knows (an empty row for a model of embeddings alone)."""
        if self.features is None:
            return scipy.sparse.csr_matrix((1, 0))
        row = self.features.row(text)
        return row if row.nnz else None

    def predict(self, text: str, vector: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first, for a normalised text.

        [] when the model reads n-grams and the text has none it knows.
        """
        row = self.row(text)
        return [] if row is None else self.rank(row, vector)

    def rank(
        self, row: scipy.sparse.csr_matrix, vector: np.ndarray | None
    ) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first, for a row and an embedding."""
        dense = None
        if self.embedding_weight > 0:
            if vector is None:
                raise ValueError("this model needs the message's sentence embedding")
            dense = np.asarray(vector, dtype=np.float64) * self.embedding_weight
        if self.scores is not None:
            probabilities = self.scores.probabilities(row, dense)
        else:
            x = _combine(row, None if dense is None else dense[None, :], 1.0, 1)
            probabilities = self.pipeline.named_steps["classifier"].predict_proba(x)[0]
        classes = self.classes
        order = np.argsort(-probabilities, kind="stable")
        return [(str(classes[i]), float(probabilities[i])) for i in order]


def _combine(
    sparse: scipy.sparse.spmatrix | None, vectors: np.ndarray | None, weight: float, rows: int
) -> scipy.sparse.csr_matrix:
    """The classifier's input: TF-IDF columns, then the embedding times `weight`."""
    blocks = []
    if sparse is not None:
        blocks.append(scipy.sparse.csr_matrix(sparse))
    if vectors is not None and weight > 0:
        blocks.append(scipy.sparse.csr_matrix(np.asarray(vectors, dtype=np.float64) * weight))
    if not blocks:
        return scipy.sparse.csr_matrix((rows, 0))
    return scipy.sparse.hstack(blocks, format="csr")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ShopIntentClassifier(GraphComponent, IntentClassifier):
    """Intent classifier on its own TF-IDF n-grams and, with `embedding_weight`, the message's
    sentence embedding: linear SVM with Platt scaling."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Nothing: the component featurises the text itself."""
        return []

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "skops", "tokenizers", "safetensors", "onnx", "onnxruntime"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Lower-case; e-mails, order numbers and other digits to placeholders.
            "normalise": True,
            # Word 1- to N-grams.
            "word_max_ngram": 2,
            # Character n-grams within word boundaries, from min to max length.
            "char_min_ngram": 2,
            "char_max_ngram": 5,
            # The SVM's inverse regularisation strength.
            "C": 1.0,
            # Folds of the cross-validation whose out-of-fold scores fit the sigmoids.
            "calibration_folds": 5,
            "random_state": 42,
            # How many intents `intent_ranking` lists (0: all).
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
            # The MiniLM sentence embedding beside the n-grams, times this weight (0: none).
            "embedding_weight": 0.0,
            # The embedding from the model's weights quantised to 8 bits (faster), else float.
            "embedding_int8": True,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Pipeline | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self.name = name
        self._model_storage = model_storage
        self._resource = resource
        self.model = IntentModel(pipeline, self.embedding_weight) if pipeline is not None else None
        if self.model is not None and self.model.features is not None:
            expected = self.model.features.size + (EMBEDDING_SIZE if self.embedding_weight else 0)
            width = self.model.pipeline.named_steps["classifier"].n_features_in_
            if width != expected:
                raise InvalidConfigException(
                    f"the saved intent model reads {width} features, this configuration "
                    f"{expected}: train again (rasa train)"
                )

    @property
    def pipeline(self) -> Pipeline | None:
        """The fitted scikit-learn pieces (see `IntentModel`)."""
        return self.model.pipeline if self.model is not None else None

    @property
    def embedding_weight(self) -> float:
        return float(self.config["embedding_weight"])

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config["word_max_ngram"]) < 1:
            raise InvalidConfigException("word_max_ngram must be at least 1")
        if not 1 <= int(config["char_min_ngram"]) <= int(config["char_max_ngram"]):
            raise InvalidConfigException("need 1 <= char_min_ngram <= char_max_ngram")
        if float(config["C"]) <= 0:
            raise InvalidConfigException("C must be positive")
        if int(config["calibration_folds"]) < 2:
            raise InvalidConfigException("calibration_folds must be at least 2")
        if int(config[RANKING_LENGTH]) < 0:
            raise InvalidConfigException(f"{RANKING_LENGTH} must not be negative")
        if float(config["embedding_weight"]) < 0:
            raise InvalidConfigException("embedding_weight must not be negative")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ShopIntentClassifier:
        """A new, untrained component."""
        return cls(config, execution_context.node_name, model_storage, resource)

    def _text(self, text: str) -> str:
        return normalise(text) if self.config["normalise"] else _SPACES.sub(" ", text.lower())

    def _vectors(self, texts: list[str]) -> np.ndarray | None:
        """The texts' sentence embeddings, if this model reads them."""
        if self.embedding_weight <= 0:
            return None
        return shared_encoder(bool(self.config["embedding_int8"])).encode(texts)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the features and the model on the training data's intent examples."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug(f"No intent examples: '{self.__class__.__name__}' is not trained.")
            return self._resource
        labels = np.asarray([e.get(INTENT) for e in examples])
        classes, counts = np.unique(labels, return_counts=True)
        if len(classes) < 2:
            raise ValueError(f"Need at least two intents to train, got {list(classes)}")
        if counts.min() < 2:
            rare = [str(c) for c, n in zip(classes, counts, strict=True) if n < 2]
            raise ValueError(f"Every intent needs at least two examples; one only: {rare}")
        self.model = IntentModel.fit(
            [self._text(e.get(TEXT)) for e in examples],
            self._vectors([e.get(TEXT) for e in examples]),
            labels,
            config=self.config,
            embedding_weight=self.embedding_weight,
        )
        self.persist()
        return self._resource

    def predict(self, text: str | None) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first; [] if nothing is known."""
        if self.model is None or not text:
            return []
        row = self.model.row(self._text(text))
        if row is None:
            return []  # no n-gram the model knows: no embedding needed to say so
        vectors = self._vectors([text])
        return self.model.rank(row, None if vectors is None else vectors[0])

    def process(self, messages: list[Message]) -> list[Message]:
        """Set `intent` and `intent_ranking` on each message, as Rasa's classifiers do."""
        ranking_length = int(self.config[RANKING_LENGTH])
        for message in messages:
            ranked = self.predict(message.get(TEXT))
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in ranked
            ]
            if ranking_length > 0:
                ranking = ranking[:ranking_length]
            intent = (
                dict(ranking[0])
                if ranking
                else {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}
            )
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leave the training data as it is: its intents are the labels, not predictions."""
        return training_data

    def persist(self) -> None:
        """Save the fitted pipeline with skops to the model storage."""
        import skops.io as sio

        if self.pipeline is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.pipeline, directory / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ShopIntentClassifier:
        """The trained component; an untrained one if the model storage has none."""
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                untrusted = sio.get_untrusted_types(file=path)
                unexpected = [t for t in untrusted if not t.startswith(_TRUSTED_MODULES)]
                pipeline = None if unexpected else sio.load(path, trusted=untrusted)
        except (ValueError, FileNotFoundError):
            logger.debug(f"No trained '{cls.__name__}' in resource '{resource.name}': untrained.")
            return cls.create(config, model_storage, resource, execution_context)
        if unexpected:  # not what `persist` writes: refuse it rather than run it
            raise InvalidConfigException(
                f"'{cls.__name__}' will not load {MODEL_FILE}: unexpected types {unexpected}"
            )
        return cls(config, execution_context.node_name, model_storage, resource, pipeline)


# What a saved pipeline may be made of: scikit-learn's estimators and numpy's types.
_TRUSTED_MODULES = ("sklearn.", "numpy.", "builtins.", "scipy.sparse.")
