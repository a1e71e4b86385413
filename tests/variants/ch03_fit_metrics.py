"""Answer variants of chapter 3 (The model.fit() training loop and metrics).

Every coding exercise has correct answers written another way, which must earn every point, and known
mistakes, which must earn none.  A few practice questions whose answers can be written in several forms
have variants too: the hidden test grades them, and tests/test_selfcheck.py checks that the notebook's
`self_check` says `correct` for exactly the right ones.
"""

from __future__ import annotations

from variants import right, wrong

EX1 = "ex1-updates-and-metrics-answer"
EX2 = "ex2-detect-overfitting-answer"
EX3 = "ex3-fix-fraud-recall-answer"

# --- Exercise 1: updates per epoch and metrics from counts ------------------------------------------

_METRICS_OK = '''

def metrics_from_counts(tp, fp, fn, tn):
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    total = tp + fp + fn + tn
    accuracy = (tp + tn) / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}
'''

_UPDATES_OK = '''
def updates_per_epoch(n, batch_size=None):
    if batch_size is None or batch_size == 0:
        batch_size = 32
    if batch_size < 0:
        raise ValueError("batch_size must be positive")
    return math.ceil(n / batch_size)

'''

EX1_VARIANTS = [
    right(EX1, "integer ceiling without math; F1 from the counts", '''
def updates_per_epoch(n, batch_size=None):
    if not batch_size:              # None and 0 both mean the default
        batch_size = 32
    elif batch_size < 0:
        raise ValueError(f"negative batch_size: {batch_size}")
    return -(-n // batch_size)


def metrics_from_counts(tp, fp, fn, tn):
    def ratio(a, b):
        return a / b if b else 0.0
    return {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
            "accuracy": ratio(tp + tn, tp + fp + fn + tn), "f1": ratio(2 * tp, 2 * tp + fp + fn)}
'''),
    right(EX1, "NumPy: np.ceil to a NumPy int, values as NumPy float64", '''
def updates_per_epoch(n, batch_size=None):
    size = 32 if batch_size in (None, 0) else batch_size
    if size < 0:
        raise ValueError("batch_size must be a positive integer")
    return np.int64(np.ceil(n / size))


def metrics_from_counts(tp, fp, fn, tn):
    counts = np.array([tp, fp, fn, tn], dtype=np.float64)
    tp, fp, fn, tn = counts
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.float64(tp / (tp + fp)) if tp + fp > 0 else np.float64(0.0)
        recall = np.float64(tp / (tp + fn)) if tp + fn > 0 else np.float64(0.0)
        accuracy = np.float64((tp + tn) / counts.sum()) if counts.sum() > 0 else np.float64(0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else np.float64(0.0)
    return {"precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}
'''),
    right(EX1, "(n + b - 1) // b with no check of batch_size; metrics from scikit-learn on rebuilt labels", '''
from sklearn.metrics import f1_score as sk_f1, precision_score as sk_precision, recall_score as sk_recall  # noqa: E402


def updates_per_epoch(n, batch_size=None):
    b = 32 if batch_size is None else batch_size
    return (n + b - 1) // b


def metrics_from_counts(tp, fp, fn, tn):
    y_true = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    y_pred = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    total = len(y_true)
    return {
        "precision": float(sk_precision(y_true, y_pred, zero_division=0)) if total else 0.0,
        "recall": float(sk_recall(y_true, y_pred, zero_division=0)) if total else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
        "f1": float(sk_f1(y_true, y_pred, zero_division=0)) if total else 0.0,
    }
'''),
    right(EX1, "batch_size=0 raises (0 is not graded); values as NumPy float32; a dict built with zip", '''
def updates_per_epoch(n, batch_size=None):
    if batch_size is None:
        batch_size = 32
    if batch_size <= 0:
        raise ValueError("batch_size must be a positive integer")
    full, rest = divmod(n, batch_size)
    return full + (1 if rest else 0)


def metrics_from_counts(tp, fp, fn, tn):
    precision = tp / (tp + fp) if (tp + fp) > 0 else 0
    recall = tp / (tp + fn) if (tp + fn) > 0 else 0
    accuracy = (tp + tn) / (tp + fp + fn + tn) if (tp + fp + fn + tn) > 0 else 0
    f1 = (2 * precision * recall / (precision + recall)) if (precision + recall) > 0 else 0
    names = ["precision", "recall", "accuracy", "f1"]
    return dict(zip(names, np.array([precision, recall, accuracy, f1], dtype=np.float32)))
'''),
    wrong(EX1, "floor division: forgets the last, smaller batch", '''
def updates_per_epoch(n, batch_size=None):
    if batch_size is None or batch_size == 0:
        batch_size = 32
    if batch_size < 0:
        raise ValueError("batch_size must be positive")
    return n // batch_size
''' + _METRICS_OK),
    wrong(EX1, "no batch_size taken as one batch of all the rows, not the default 32", '''
def updates_per_epoch(n, batch_size=None):
    if batch_size is None:
        batch_size = n
    return math.ceil(n / batch_size)
''' + _METRICS_OK),
    wrong(EX1, "precision and recall swapped", _UPDATES_OK + '''
def metrics_from_counts(tp, fp, fn, tn):
    precision = tp / (tp + fn) if tp + fn else 0.0
    recall = tp / (tp + fp) if tp + fp else 0.0
    total = tp + fp + fn + tn
    accuracy = (tp + tn) / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}
'''),
    wrong(EX1, "precision of the other class: TN / (TN + FN)", _UPDATES_OK + '''
def metrics_from_counts(tp, fp, fn, tn):
    precision = tn / (tn + fn) if tn + fn else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    total = tp + fp + fn + tn
    accuracy = (tp + tn) / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}
'''),
    wrong(EX1, "a zero denominator gives nan, not 0.0", _UPDATES_OK + '''
def metrics_from_counts(tp, fp, fn, tn):
    with np.errstate(divide="ignore", invalid="ignore"):
        tp, fp, fn, tn = (np.float64(v) for v in (tp, fp, fn, tn))
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        accuracy = (tp + tn) / (tp + fp + fn + tn)
        f1 = 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}
'''),
    wrong(EX1, "values rounded to 2 decimals", _UPDATES_OK + '''
def metrics_from_counts(tp, fp, fn, tn):
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    total = tp + fp + fn + tn
    accuracy = (tp + tn) / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {k: round(v, 2) for k, v in
            {"precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}.items()}
'''),
]

# --- Exercise 2: detect overfitting from a History ---------------------------------------------------

EX2_VARIANTS = [
    right(EX2, "plain Python: list.index(min(...))", '''
def detect_overfitting(history_dict):
    loss = [float(v) for v in history_dict["loss"]]
    val_loss = [float(v) for v in history_dict["val_loss"]]
    best = val_loss.index(min(val_loss))
    rose = val_loss[-1] > 1.1 * val_loss[best]
    still_learning = loss[-1] < loss[best]
    return best, rose and still_learning
'''),
    right(EX2, "min over the epochs with a key; a relative rise", '''
def detect_overfitting(history_dict):
    val_loss = list(history_dict["val_loss"])
    loss = list(history_dict["loss"])
    best = min(range(len(val_loss)), key=lambda epoch: val_loss[epoch])
    relative_rise = (val_loss[-1] - val_loss[best]) / val_loss[best]
    return (best, bool(relative_rise > 0.1 and loss[-1] < loss[best]))
'''),
    right(EX2, "NumPy types: np.int64 and np.bool_", '''
def detect_overfitting(history_dict):
    val_loss = np.asarray(history_dict["val_loss"], dtype=np.float64)
    loss = np.asarray(history_dict["loss"], dtype=np.float64)
    best = np.argmin(val_loss)                         # a NumPy integer
    overfits = np.logical_and(val_loss[-1] > val_loss[best] * 1.1, loss[-1] < loss[best])
    return best, overfits                              # a NumPy bool
'''),
    right(EX2, "a loop that keeps the first lowest epoch", '''
def detect_overfitting(history_dict):
    best, lowest = 0, None
    for epoch, value in enumerate(history_dict["val_loss"]):
        if lowest is None or value < lowest:
            best, lowest = epoch, value
    final_val = history_dict["val_loss"][-1]
    final_loss = history_dict["loss"][-1]
    if final_val > lowest * 1.1 and final_loss < history_dict["loss"][best]:
        return best, True
    return best, False
'''),
    wrong(EX2, "best epoch counted from 1", '''
def detect_overfitting(history_dict):
    loss = np.asarray(history_dict["loss"], dtype=float)
    val_loss = np.asarray(history_dict["val_loss"], dtype=float)
    best = int(np.argmin(val_loss))
    overfits = bool(val_loss[-1] > 1.1 * val_loss[best] and loss[-1] < loss[best])
    return best + 1, overfits
'''),
    wrong(EX2, "best epoch of the training loss", '''
def detect_overfitting(history_dict):
    loss = np.asarray(history_dict["loss"], dtype=float)
    val_loss = np.asarray(history_dict["val_loss"], dtype=float)
    best = int(np.argmin(loss))
    overfits = bool(val_loss[-1] > 1.1 * val_loss[best] and loss[-1] < loss[best])
    return best, overfits
'''),
    wrong(EX2, "the last of tied lowest epochs", '''
def detect_overfitting(history_dict):
    loss = np.asarray(history_dict["loss"], dtype=float)
    val_loss = np.asarray(history_dict["val_loss"], dtype=float)
    best = len(val_loss) - 1 - int(np.argmin(val_loss[::-1]))
    overfits = bool(val_loss[-1] > 1.1 * val_loss[best] and loss[-1] < loss[best])
    return best, overfits
'''),
    wrong(EX2, "overfitting from the validation loss alone", '''
def detect_overfitting(history_dict):
    val_loss = np.asarray(history_dict["val_loss"], dtype=float)
    best = int(np.argmin(val_loss))
    return best, bool(val_loss[-1] > 1.1 * val_loss[best])
'''),
    wrong(EX2, "the rise measured from the first epoch, not the lowest", '''
def detect_overfitting(history_dict):
    loss = np.asarray(history_dict["loss"], dtype=float)
    val_loss = np.asarray(history_dict["val_loss"], dtype=float)
    best = int(np.argmin(val_loss))
    overfits = bool(val_loss[-1] > 1.1 * val_loss[0] and loss[-1] < loss[best])
    return best, overfits
'''),
]

# --- Exercise 3: fix the fraud model's recall ---------------------------------------------------------
# Each right variant must pass for every seed, not only the grader's: tests/ch03_ex3_margin.py (the
# chapter's margin measurement) grades them over seeds 0-19.

_FRAUD_NET = '''
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
'''

_WEIGHTED_FIT = '''
def fix_fraud_model(x_train, y_train, x_val, y_val):
    y_train = np.asarray(y_train).ravel()
    y_val = np.asarray(y_val).ravel()
    n = len(y_train)
    class_weight = {0: n / (2 * int((y_train == 0).sum())), 1: n / (2 * int((y_train == 1).sum()))}''' + \
    _FRAUD_NET + '''    model.fit(x_train, y_train, epochs=8, batch_size=256, class_weight=class_weight, verbose=0)
    probabilities = model.predict(x_val, verbose=0).ravel()
'''

EX3_VARIANTS = [
    right(EX3, "exactly the stated goal: the highest threshold with validation recall >= 0.8, a plain loop", '''
def fix_fraud_model(x_train, y_train, x_val, y_val):
    y_train = np.asarray(y_train).ravel()
    fraud = int(y_train.sum())
    legitimate = len(y_train) - fraud
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(x_train, y_train, epochs=8, batch_size=256, verbose=0,
              class_weight={0: len(y_train) / (2 * legitimate), 1: len(y_train) / (2 * fraud)})
    scores = model.predict(x_val, verbose=0).ravel()
    fraud_scores = sorted(scores[np.asarray(y_val).ravel() == 1])
    # the threshold that keeps exactly 80 % of the validation fraud cases (rounded up) above it
    keep = math.ceil(0.8 * len(fraud_scores))
    threshold = fraud_scores[len(fraud_scores) - keep]
    return model, float(threshold)
'''),
    right(EX3, "scikit-learn's balanced weights, loss and optimizer objects, a model built with add()", '''
from sklearn.utils.class_weight import compute_class_weight  # noqa: E402


def fix_fraud_model(x_train, y_train, x_val, y_val):
    classes = np.array([0, 1])
    weights = compute_class_weight("balanced", classes=classes, y=np.asarray(y_train).ravel())
    model = keras.Sequential()
    model.add(keras.Input(shape=(x_train.shape[1],)))
    model.add(layers.Dense(16, activation=tf.nn.relu))
    model.add(layers.Dense(16, activation=keras.activations.relu))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=keras.losses.BinaryCrossentropy())
    model.fit(x_train, y_train, epochs=8, batch_size=256, verbose=0,
              class_weight={int(c): float(w) for c, w in zip(classes, weights)})
    probabilities = model.predict(x_val, verbose=0)[:, 0]
    precision, recall, thresholds = precision_recall_curve(y_val, probabilities)
    ok = np.flatnonzero(recall[:-1] >= 0.85)
    best = ok[np.argmax(precision[ok])]
    return model, np.float32(thresholds[best])
'''),
    right(EX3, "no class_weight at all: the plain loss, the threshold does the work; functional API, "
               "validation data with EarlyStopping, metric objects", '''
def fix_fraud_model(x_train, y_train, x_val, y_val):
    inputs = keras.Input(shape=(8,))
    hidden = layers.Dense(16, activation="relu")(inputs)
    hidden = layers.Dense(16, activation="relu")(hidden)
    outputs = layers.Dense(1, activation="sigmoid")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=[keras.metrics.Recall(name="recall"), keras.metrics.AUC(curve="PR", name="pr_auc")])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    model.fit(x_train, y_train, epochs=12, batch_size=256, verbose=0, validation_data=(x_val, y_val),
              callbacks=[stop])
    probabilities = model.predict(x_val, verbose=0).ravel()
    candidates = np.unique(probabilities)[::-1]             # from the highest threshold down
    y_val = np.asarray(y_val).ravel()
    for t in candidates:
        flagged = probabilities >= t
        if flagged[y_val == 1].mean() >= 0.85:
            return model, float(t)
    return model, float(candidates[-1])
'''),
    right(EX3, "a hand-picked weight of 30 for fraud, a threshold from a grid", '''
def fix_fraud_model(x_train, y_train, x_val, y_val):
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(32, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.binary_crossentropy)
    model.fit(x_train, y_train.astype("float32"), epochs=10, batch_size=256, verbose=0, class_weight={0: 1.0, 1: 30.0})
    p = model.predict(x_val, verbose=0).ravel()
    y = np.asarray(y_val).ravel() == 1
    best_t, best_precision = 0.5, -1.0
    for t in np.linspace(0.01, 0.99, 99):
        flagged = p >= t
        if flagged.sum() == 0 or flagged[y].mean() < 0.85:
            continue
        precision = (flagged & y).sum() / flagged.sum()
        if precision > best_precision:
            best_t, best_precision = float(t), precision
    return model, best_t
'''),
    wrong(EX3, "a threshold that flags everything", _WEIGHTED_FIT + '''    return model, float(probabilities.min()) * 0.5
'''),
    wrong(EX3, "precision and recall swapped: validation precision >= 0.8", _WEIGHTED_FIT + '''    precision, recall, thresholds = precision_recall_curve(y_val, probabilities)
    allowed = precision[:-1] >= 0.8
    threshold = thresholds[np.argmax(np.where(allowed, recall[:-1], -1.0))] if allowed.any() else 0.99
    return model, float(threshold)
'''),
    wrong(EX3, "no class_weight and the default threshold 0.5", '''
def fix_fraud_model(x_train, y_train, x_val, y_val):''' + _FRAUD_NET + '''    model.fit(x_train, y_train, epochs=8, batch_size=256, verbose=0)
    return model, 0.5
'''),
    wrong(EX3, "trained on the other class's labels (1 = legitimate)", '''
def fix_fraud_model(x_train, y_train, x_val, y_val):
    y_train = 1 - np.asarray(y_train).ravel()          # 1 = legitimate
    y_val = 1 - np.asarray(y_val).ravel()
    n = len(y_train)
    class_weight = {0: n / (2 * int((y_train == 0).sum())), 1: n / (2 * int((y_train == 1).sum()))}''' + \
    _FRAUD_NET + '''    model.fit(x_train, y_train, epochs=8, batch_size=256, class_weight=class_weight, verbose=0)
    probabilities = model.predict(x_val, verbose=0).ravel()
    precision, recall, thresholds = precision_recall_curve(y_val, probabilities)
    allowed = recall[:-1] >= 0.85
    return model, float(thresholds[np.argmax(np.where(allowed, precision[:-1], -1.0))])
'''),
    wrong(EX3, "the threshold as a percentage", _WEIGHTED_FIT + '''    precision, recall, thresholds = precision_recall_curve(y_val, probabilities)
    allowed = recall[:-1] >= 0.85
    return model, 100 * float(thresholds[np.argmax(np.where(allowed, precision[:-1], -1.0))])
'''),
    wrong(EX3, "a fixed threshold of 0.01: flags far more transactions than the goal needs",
          _WEIGHTED_FIT + '''    return model, 0.01
'''),
]

# --- Practice questions whose answers have several forms ----------------------------------------------

QUESTION_VARIANTS = [
    right("q06-answer", "spaces around the name", 'q06 = " validation_data "\n'),
    wrong("q06-answer", "validation_split", 'q06 = "validation_split"\n'),
    wrong("q06-answer", "with an equals sign", 'q06 = "validation_data="\n'),
    right("q07-answer", "another order", 'q07 = {"val_mae", "val_loss", "mae", "loss"}\n'),
    right("q07-answer", "a frozenset", 'q07 = frozenset(["loss", "val_loss", "mae", "val_mae"])\n'),
    right("q07-answer", "spaces around a key", 'q07 = {"loss ", "mae", " val_loss", "val_mae"}\n'),
    wrong("q07-answer", "a list, not a set", 'q07 = ["loss", "mae", "val_loss", "val_mae"]\n'),
    wrong("q07-answer", "no validation metric", 'q07 = {"loss", "mae", "val_loss"}\n'),
    wrong("q07-answer", "accuracy instead of mae", 'q07 = {"loss", "accuracy", "val_loss", "val_accuracy"}\n'),
    right("q10-answer", "rounded to 3 decimals, in a list", "q10 = [0.6, 0.75, 0.97]\n"),
    right("q10-answer", "NumPy floats", "q10 = (np.float64(30 / 50), np.float32(30 / 40), np.float64(0.97))\n"),
    wrong("q10-answer", "precision and recall swapped", "q10 = (0.75, 0.6, 0.97)\n"),
    wrong("q10-answer", "accuracy without TN", "q10 = (0.6, 0.75, 0.03)\n"),
    right("q13-answer", "an int zero", "q13 = (980 / 1000, 0)\n"),
    wrong("q13-answer", "the recall of the legitimate class", "q13 = (0.98, 1.0)\n"),
    wrong("q13-answer", "the fraud rate as accuracy", "q13 = (0.02, 0.0)\n"),
    right("q16-answer", "a space after the key", 'q16 = "precision_1 "\n'),
    wrong("q16-answer", "the first metric's name", 'q16 = "precision"\n'),
    wrong("q16-answer", "counted from 2", 'q16 = "precision_2"\n'),
]

VARIANTS = [*EX1_VARIANTS, *EX2_VARIANTS, *EX3_VARIANTS, *QUESTION_VARIANTS]
