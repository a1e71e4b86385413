# ruff: noqa: E501  (the variants are answer cells, written as a student might)
"""Chapter 1's answer variants (see tests/variants/__init__.py)."""

from variants import right, wrong

EX1 = "ex1-confusion-counts-answer"
EX2 = "ex2-binary-metrics-answer"
EX3 = "ex3-image-classifier-answer"
EX4 = "ex4-cancer-classifier-answer"


def _classifier(body: str) -> str:
    return "def build_image_classifier():\n" + body


VARIANTS = [
    # Exercise 1: confusion counts
    right(EX1, "plain Python loop", '''
def confusion_counts(y_true, y_pred):
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for truth, guess in zip(y_true, y_pred):
        if truth == 1:
            counts["tp" if guess == 1 else "fn"] += 1
        else:
            counts["fp" if guess == 1 else "tn"] += 1
    return counts
'''),
    right(EX1, "Counter over pairs", '''
from collections import Counter

def confusion_counts(y_true, y_pred):
    pairs = Counter((int(t), int(p)) for t, p in zip(y_true, y_pred))
    return {"tp": pairs[(1, 1)], "fp": pairs[(0, 1)], "fn": pairs[(1, 0)], "tn": pairs[(0, 0)]}
'''),
    right(EX1, "boolean NumPy arrays", '''
def confusion_counts(y_true, y_pred):
    t = np.asarray(y_true) == 1
    p = np.asarray(y_pred) == 1
    return dict(tp=int((t & p).sum()), fp=int((~t & p).sum()), fn=int((t & ~p).sum()),
                tn=int((~t & ~p).sum()))
'''),
    right(EX1, "sums of products", '''
def confusion_counts(y_true, y_pred):
    y_true = [int(v) for v in y_true]
    y_pred = [int(v) for v in y_pred]
    tp = sum(t * p for t, p in zip(y_true, y_pred))
    fp = sum((1 - t) * p for t, p in zip(y_true, y_pred))
    fn = sum(t * (1 - p) for t, p in zip(y_true, y_pred))
    return {"tp": tp, "fp": fp, "fn": fn, "tn": len(y_true) - tp - fp - fn}
'''),
    wrong(EX1, "false positives and false negatives swapped", '''
def confusion_counts(y_true, y_pred):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return {"tp": int(np.sum((t == 1) & (p == 1))), "fn": int(np.sum((t == 0) & (p == 1))),
            "fp": int(np.sum((t == 1) & (p == 0))), "tn": int(np.sum((t == 0) & (p == 0)))}
'''),
    wrong(EX1, "class 0 taken as the positive class", '''
def confusion_counts(y_true, y_pred):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return {"tp": int(np.sum((t == 0) & (p == 0))), "fp": int(np.sum((t == 1) & (p == 0))),
            "fn": int(np.sum((t == 0) & (p == 1))), "tn": int(np.sum((t == 1) & (p == 1)))}
'''),
    wrong(EX1, "off by one: the last sample is skipped", '''
def confusion_counts(y_true, y_pred):
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for i in range(len(y_true) - 1):
        key = ("t" if y_true[i] == y_pred[i] else "f") + ("p" if y_pred[i] == 1 else "n")
        counts[key] += 1
    return counts
'''),
    wrong(EX1, "scikit-learn's matrix read positive-first", '''
from sklearn.metrics import confusion_matrix as cmatrix

def confusion_counts(y_true, y_pred):
    (tp, fn), (fp, tn) = cmatrix(y_true, y_pred, labels=[0, 1])
    return {"tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn)}
'''),

    # Exercise 2: metrics from the counts
    right(EX2, "F1 from the counts, guards with if", '''
def binary_metrics(tp, fp, fn, tn):
    total = tp + fp + fn + tn
    return {
        "precision": tp / (tp + fp) if tp + fp > 0 else 0.0,
        "recall": tp / (tp + fn) if tp + fn > 0 else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }
'''),
    right(EX2, "ZeroDivisionError caught", '''
def binary_metrics(tp, fp, fn, tn):
    def safe(a, b):
        try:
            return float(a / b)
        except ZeroDivisionError:
            return 0.0
    p, r = safe(tp, tp + fp), safe(tp, tp + fn)
    return {"precision": p, "recall": r, "accuracy": safe(tp + tn, tp + fp + fn + tn),
            "f1": safe(2 * p * r, p + r)}
'''),
    right(EX2, "NumPy with errstate, cast to float", '''
def binary_metrics(tp, fp, fn, tn):
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.array([tp, tp, tp + tn], dtype="float64") / np.array([tp + fp, tp + fn, tp + fp + fn + tn])
    p, r, a = (float(v) if np.isfinite(v) else 0.0 for v in ratios)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "accuracy": a, "f1": float(f1)}
'''),
    right(EX2, "fractions, then floats", '''
from fractions import Fraction

def binary_metrics(tp, fp, fn, tn):
    def ratio(a, b):
        return Fraction(a, b) if b else Fraction(0)
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = 2 * p * r / (p + r) if p + r else Fraction(0)
    return {k: float(v) for k, v in
            {"precision": p, "recall": r, "accuracy": ratio(tp + tn, tp + fp + fn + tn), "f1": f1}.items()}
'''),
    wrong(EX2, "rounded to three places", '''
def binary_metrics(tp, fp, fn, tn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3),
            "accuracy": round((tp + tn) / (tp + fp + fn + tn), 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}
'''),
    wrong(EX2, "precision and recall swapped", '''
def binary_metrics(tp, fp, fn, tn):
    p = tp / (tp + fn) if tp + fn else 0.0
    r = tp / (tp + fp) if tp + fp else 0.0
    return {"precision": p, "recall": r, "accuracy": (tp + tn) / (tp + fp + fn + tn),
            "f1": 2 * p * r / (p + r) if p + r else 0.0}
'''),
    wrong(EX2, "F1 as the plain mean of precision and recall", '''
def binary_metrics(tp, fp, fn, tn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "accuracy": (tp + tn) / (tp + fp + fn + tn), "f1": (p + r) / 2}
'''),
    wrong(EX2, "NaN where a denominator is zero", '''
def binary_metrics(tp, fp, fn, tn):
    def ratio(a, b):
        return a / b if b else float("nan")
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {"precision": p, "recall": r, "accuracy": ratio(tp + tn, tp + fp + fn + tn), "f1": ratio(2 * p * r, p + r)}
'''),

    # Exercise 3: a model to a specification
    right(EX3, "loss and metric as objects, model.add", _classifier('''
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return model
''')),
    right(EX3, "the loss function, metrics=['acc'], tf.nn.relu", _classifier('''
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Flatten(),
        layers.Dense(128, activation=tf.nn.relu),
        layers.Dense(10, activation=tf.nn.softmax),
    ])
    model.compile(optimizer="adam", loss=keras.losses.sparse_categorical_crossentropy, metrics=["acc"])
    return model
''')),
    right(EX3, "activations as layers of their own", _classifier('''
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),
        layers.Dense(128),
        layers.ReLU(),
        layers.Dense(10),
        layers.Activation("softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    return model
''')),
    right(EX3, "keras.activations functions, tf.keras spelling", _classifier('''
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28, 1)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(units=128, activation=keras.activations.relu),
        tf.keras.layers.Dense(units=10, activation=keras.activations.softmax),
    ], name="digits")
    model.compile(optimizer=tf.keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
''')),
    # Keras 3.15 keeps the logits of a softmax layer's output and, given from_logits=True, computes
    # the loss from them (with a warning): this model trains and evaluates exactly like the specified
    # one, so it is graded by what it computes and earns every point (measured through the grader).
    right(EX3, "from_logits=True on a softmax output, which Keras 3.15 computes from the logits", _classifier('''
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
''')),
    wrong(EX3, "not compiled", _classifier('''
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                             layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
''')),
    wrong(EX3, "no ReLU on the hidden layer", _classifier('''
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(128), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''')),
    wrong(EX3, "sigmoid output instead of softmax", _classifier('''
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(128, activation="relu"), layers.Dense(10, activation="sigmoid")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''')),
    wrong(EX3, "no softmax: raw scores scored as if they were probabilities", _classifier('''
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(128, activation="relu"), layers.Dense(10)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''')),
    wrong(EX3, "SGD instead of Adam", _classifier('''
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''')),
    wrong(EX3, "no accuracy metric", _classifier('''
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
''')),

    # Exercise 4: a trained classifier, judged on data it never saw
    right(EX4, "two hidden layers, Adam object", '''
def train_cancer_classifier(x_train, y_train):
    norm = layers.Normalization()
    norm.adapt(x_train)
    model = keras.Sequential([keras.Input((30,)), norm, layers.Dense(32, activation="relu"),
                              layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy())
    model.fit(x_train, y_train, epochs=25, batch_size=32, verbose=0)
    return model
'''),
    right(EX4, "statistics computed with NumPy, given to Normalization", '''
def train_cancer_classifier(x_train, y_train):
    x = np.asarray(x_train, dtype="float32")
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-7
    norm = layers.Normalization(mean=mean, variance=std ** 2)
    model = keras.Sequential([keras.Input((x.shape[1],)), norm, layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, np.asarray(y_train, dtype="float32"), epochs=40, batch_size=16, verbose=0)
    return model
'''),
    right(EX4, "validation split and early stopping", '''
def train_cancer_classifier(x_train, y_train):
    norm = layers.Normalization()
    norm.adapt(np.asarray(x_train))
    model = keras.Sequential([keras.Input(shape=(30,)), norm, layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    stop = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    model.fit(x_train, y_train, validation_split=0.2, epochs=60, verbose=0, callbacks=[stop])
    return model
'''),
    right(EX4, "logistic regression (no hidden layer), larger learning rate", '''
def train_cancer_classifier(x_train, y_train):
    norm = layers.Normalization()
    norm.adapt(x_train)
    model = keras.Sequential([keras.Input(shape=(30,)), norm, layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy")
    model.fit(x_train, y_train, epochs=30, verbose=0)
    return model
'''),
    wrong(EX4, "trained on the lesson's test split as well", '''
def train_cancer_classifier(x_train, y_train):
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test])
    norm = layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input(shape=(30,)), norm, layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=30, verbose=0)
    return model
'''),
    wrong(EX4, "trained on every row of the data set (a lookup), not only its arguments", '''
def train_cancer_classifier(x_train, y_train):
    from sklearn.datasets import load_breast_cancer
    x_all, y_all = load_breast_cancer(return_X_y=True)
    norm = layers.Normalization()
    norm.adapt(x_all.astype("float32"))
    model = keras.Sequential([keras.Input(shape=(30,)), norm, layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x_all.astype("float32"), 1 - y_all, epochs=30, verbose=0)
    return model
'''),
    wrong(EX4, "labels flipped (1 = benign)", '''
def train_cancer_classifier(x_train, y_train):
    norm = layers.Normalization()
    norm.adapt(x_train)
    model = keras.Sequential([keras.Input(shape=(30,)), norm, layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x_train, 1 - np.asarray(y_train), epochs=30, verbose=0)
    return model
'''),
    wrong(EX4, "never trained", '''
def train_cancer_classifier(x_train, y_train):
    model = keras.Sequential([keras.Input(shape=(30,)), layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
'''),
    wrong(EX4, "two softmax outputs instead of one probability", '''
def train_cancer_classifier(x_train, y_train):
    norm = layers.Normalization()
    norm.adapt(x_train)
    model = keras.Sequential([keras.Input(shape=(30,)), norm, layers.Dense(16, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=30, verbose=0)
    return model
'''),
    wrong(EX4, "features standardised outside the model, so predict() on raw features is wrong", '''
def train_cancer_classifier(x_train, y_train):
    x = np.asarray(x_train, dtype="float32")
    x = (x - x.mean(axis=0)) / x.std(axis=0)      # scaled here: the model never holds the scaling
    model = keras.Sequential([keras.Input(shape=(30,)), layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(x, np.asarray(y_train), epochs=8, batch_size=32, verbose=0)
    return model
'''),
]
