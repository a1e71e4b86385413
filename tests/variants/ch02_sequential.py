"""Chapter 2's answer variants: right answers written another way, and known-wrong answers.

Every answer cell runs after the chapter's setup cell, so it may use what that cell imports
(`keras`, `layers`, `tf`, `np`); anything else it imports itself.
"""

from __future__ import annotations

from variants import right, wrong

EX1 = "ex1-spec-model-answer"
EX2 = "ex2-choose-head-answer"
EX3 = "ex3-wine-classifier-answer"
EX4 = "ex4-confusion-metrics-answer"


# --- Exercise 1: a compiled model to a specification ---------------------------------------------

def _ex1(layers_code: str, compile_code: str, before: str = "") -> str:
    return (f"{before}def build_spec_model():\n"
            f"{layers_code}"
            f"    model.compile({compile_code})\n"
            f"    return model\n")


_EX1_LIST = ("    model = keras.Sequential([\n"
             "        keras.Input(shape=(20,)),\n"
             "        layers.Dense(32, activation=\"relu\"),\n"
             "        layers.Dense(16, activation=\"relu\"),\n"
             "        layers.Dense(4, activation=\"softmax\"),\n"
             "    ])\n")
_EX1_COMPILE = 'optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]'

EX1_VARIANTS = [
    right(EX1, "add() one layer at a time, metrics=['acc']",
          _ex1("    model = keras.Sequential()\n"
               "    model.add(keras.Input(shape=(20,)))\n"
               "    model.add(layers.Dense(32, activation=\"relu\"))\n"
               "    model.add(layers.Dense(16, activation=\"relu\"))\n"
               "    model.add(layers.Dense(4, activation=\"softmax\"))\n",
               'optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"]')),
    right(EX1, "tf.keras, tf.nn activations, loss and metric objects, Adam object",
          _ex1("    model = tf.keras.Sequential([\n"
               "        tf.keras.Input(shape=[20]),\n"
               "        tf.keras.layers.Dense(32, activation=tf.nn.relu),\n"
               "        tf.keras.layers.Dense(16, activation=keras.activations.relu),\n"
               "        tf.keras.layers.Dense(4, activation=tf.nn.softmax),\n"
               "    ])\n",
               "optimizer=keras.optimizers.Adam(learning_rate=1e-3), "
               "loss=keras.losses.SparseCategoricalCrossentropy(), "
               "metrics=[keras.metrics.SparseCategoricalAccuracy()]")),
    right(EX1, "layers made in a loop, loss and metric as keras functions",
          _ex1("    model = keras.Sequential([keras.Input(shape=(20,))])\n"
               "    for units, activation in [(32, 'relu'), (16, 'relu'), (4, 'softmax')]:\n"
               "        model.add(layers.Dense(units, activation=activation))\n",
               "optimizer=tf.keras.optimizers.Adam(), "
               "loss=keras.losses.sparse_categorical_crossentropy, "
               "metrics=[keras.metrics.sparse_categorical_accuracy]")),
    right(EX1, "the metric class itself, a tuple of metrics, a named loss object",
          _ex1(_EX1_LIST,
               'optimizer="Adam", '
               'loss=keras.losses.SparseCategoricalCrossentropy(name="scce"), '
               "metrics=(keras.metrics.SparseCategoricalAccuracy,)")),
    right(EX1, "accuracy plus a second metric, layers from a comprehension, keras.activations.softmax",
          _ex1("    hidden = [layers.Dense(units=n, activation='relu') for n in (32, 16)]\n"
               "    model = keras.Sequential([keras.Input(shape=(20,)), *hidden,\n"
               "                              layers.Dense(units=4, activation=keras.activations.softmax)])\n",
               'optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy", '
               'metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")]')),
    wrong(EX1, "not compiled",
          "def build_spec_model():\n"
          f"{_EX1_LIST}"
          "    return model\n"),
    wrong(EX1, "categorical cross-entropy for integer labels",
          _ex1(_EX1_LIST, 'optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"]')),
    wrong(EX1, "the accuracy of one-hot labels (categorical_accuracy)",
          _ex1(_EX1_LIST,
               'optimizer="adam", loss="sparse_categorical_crossentropy", '
               'metrics=["categorical_accuracy"]')),
    wrong(EX1, "no metric at all",
          _ex1(_EX1_LIST, 'optimizer="adam", loss="sparse_categorical_crossentropy"')),
    wrong(EX1, "no softmax on the output (logits with from_logits=True)",
          _ex1(_EX1_LIST.replace('layers.Dense(4, activation="softmax")', "layers.Dense(4)"),
               'optimizer="adam", '
               "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), "
               'metrics=["accuracy"]')),
    wrong(EX1, "hidden sizes swapped (16 then 32)",
          _ex1(_EX1_LIST.replace("Dense(32,", "Dense(TMP,").replace("Dense(16,", "Dense(32,")
               .replace("Dense(TMP,", "Dense(16,"), _EX1_COMPILE)),
    wrong(EX1, "missing relu on the first hidden layer",
          _ex1(_EX1_LIST.replace('layers.Dense(32, activation="relu")', "layers.Dense(32)"),
               _EX1_COMPILE)),
    wrong(EX1, "SGD instead of Adam",
          _ex1(_EX1_LIST, 'optimizer="sgd", loss="sparse_categorical_crossentropy", '
                          'metrics=["accuracy"]')),
    wrong(EX1, "the same model object on every call",
          _ex1(_EX1_LIST.replace("    model = keras.Sequential([", "    if built:\n"
                                 "        return built[0]\n"
                                 "    model = keras.Sequential(["),
               _EX1_COMPILE, before="built = []\n\n\n")
          .replace("    return model\n", "    built.append(model)\n    return model\n")),
    wrong(EX1, "keras.metrics.Accuracy(): evaluate raises on integer labels and 4 outputs",
          _ex1(_EX1_LIST, 'optimizer="adam", loss="sparse_categorical_crossentropy", '
                          "metrics=[keras.metrics.Accuracy()]")),
]


# --- Exercise 2: the last layer and the loss for a task -------------------------------------------

def _ex2(binary: str, onehot: str, integer: str, logits: str, regression: str) -> str:
    return ("def choose_head(task, n_classes):\n"
            '    if task == "binary":\n'
            f"        return {binary}\n"
            '    if task == "onehot":\n'
            f"        return {onehot}\n"
            '    if task == "integer":\n'
            f"        return {integer}\n"
            '    if task == "logits":\n'
            f"        return {logits}\n"
            '    if task == "regression":\n'
            f"        return {regression}\n"
            "    raise ValueError(task)\n")


_EX2 = dict(binary='(1, "sigmoid", "binary_crossentropy")',
            onehot='(n_classes, "softmax", "categorical_crossentropy")',
            integer='(n_classes, "softmax", "sparse_categorical_crossentropy")',
            logits='(n_classes, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True))',
            regression='(1, None, "mse")')


def _ex2_with(**changes: str) -> str:
    return _ex2(**{**_EX2, **changes})


EX2_VARIANTS = [
    right(EX2, "keras.activations and keras.losses functions, functools.partial for logits",
          "import functools\n\n\n" + _ex2(
              binary="(1, keras.activations.sigmoid, keras.losses.binary_crossentropy)",
              onehot="(n_classes, keras.activations.softmax, keras.losses.categorical_crossentropy)",
              integer="(n_classes, tf.nn.softmax, keras.losses.sparse_categorical_crossentropy)",
              logits="(n_classes, keras.activations.linear, functools.partial("
                     "keras.losses.sparse_categorical_crossentropy, from_logits=True))",
              regression="(1, keras.activations.linear, keras.losses.mean_squared_error)")),
    right(EX2, "keras.losses objects, 'linear' spelled out, a binary logits head",
          _ex2(binary='(1, "linear", keras.losses.BinaryCrossentropy(from_logits=True))',
               onehot='(n_classes, "softmax", keras.losses.CategoricalCrossentropy())',
               integer='(n_classes, "softmax", tf.keras.losses.SparseCategoricalCrossentropy(name="scce"))',
               logits='(n_classes, "linear", keras.losses.SparseCategoricalCrossentropy(from_logits=True))',
               regression='(1, "linear", keras.losses.MeanSquaredError())')),
    right(EX2, "a lookup table, long loss names, lists instead of tuples, a binary logits head",
          "def choose_head(task, n_classes):\n"
          "    heads = {\n"
          '        "binary": [1, None, tf.keras.losses.BinaryCrossentropy(from_logits=True)],\n'
          '        "onehot": [int(n_classes), "softmax", "categorical_crossentropy"],\n'
          '        "integer": [int(n_classes), "softmax", "sparse_categorical_crossentropy"],\n'
          '        "logits": [int(n_classes), None,\n'
          "                   keras.losses.SparseCategoricalCrossentropy(from_logits=True)],\n"
          '        "regression": [1, None, "mean_squared_error"],\n'
          "    }\n"
          "    return heads[task]\n"),
    right(EX2, "tf.nn activations, tf.keras.losses.mse",
          _ex2_with(binary="(1, tf.nn.sigmoid, 'binary_crossentropy')",
                    onehot="(n_classes, tf.nn.softmax, 'categorical_crossentropy')",
                    regression="(1, None, tf.keras.losses.mse)")),
    right(EX2, "from_logits=False spelled out, 'MSE' in capitals",
          _ex2_with(binary='(1, "sigmoid", keras.losses.BinaryCrossentropy(from_logits=False))',
                    regression='(1, "linear", "MSE")')),
    wrong(EX2, "ReLU + binary cross-entropy for the binary task",
          _ex2_with(binary='(1, "relu", "binary_crossentropy")')),
    wrong(EX2, "sparse loss for one-hot labels",
          _ex2_with(onehot='(n_classes, "softmax", "sparse_categorical_crossentropy")')),
    wrong(EX2, "categorical loss for integer labels",
          _ex2_with(integer='(n_classes, "softmax", "categorical_crossentropy")')),
    wrong(EX2, "logits without from_logits=True",
          _ex2_with(logits='(n_classes, None, "sparse_categorical_crossentropy")')),
    wrong(EX2, "softmax on the logits head as well as from_logits=True",
          _ex2_with(logits='(n_classes, "softmax", '
                           'keras.losses.SparseCategoricalCrossentropy(from_logits=True))')),
    wrong(EX2, "binary: a sigmoid and a loss told it gets logits (the sigmoid applied twice)",
          _ex2_with(binary='(1, "sigmoid", keras.losses.BinaryCrossentropy(from_logits=True))')),
    wrong(EX2, "MAE for regression when MSE is asked for",
          _ex2_with(regression='(1, None, "mae")')),
    wrong(EX2, "one unit too few for one-hot labels",
          _ex2_with(onehot='(n_classes - 1, "softmax", "categorical_crossentropy")')),
    wrong(EX2, "binary as two softmax units",
          _ex2_with(binary='(2, "softmax", "sparse_categorical_crossentropy")')),
]


# --- Exercise 3: a trained wine classifier --------------------------------------------------------

EX3_VARIANTS = [
    right(EX3, "add() one layer at a time, tf.nn.relu, a loss object, metrics=['acc']",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x_train)\n"
          "    model = keras.Sequential()\n"
          "    model.add(keras.Input(shape=(13,)))\n"
          "    model.add(norm)\n"
          "    model.add(layers.Dense(16, activation=tf.nn.relu))\n"
          "    model.add(layers.Dense(3, activation=keras.activations.softmax))\n"
          "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),\n"
          "                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=['acc'])\n"
          "    model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)\n"
          "    return model\n"),
    right(EX3, "one-hot labels with categorical cross-entropy",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x_train)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='categorical_crossentropy',\n"
          "                  metrics=[keras.metrics.CategoricalAccuracy()])\n"
          "    model.fit(x_train, keras.utils.to_categorical(y_train, 3), epochs=30, verbose=0)\n"
          "    return model\n"),
    right(EX3, "softmax as its own layer, float64 arrays, RMSprop",
          "def train_wine_classifier(x_train, y_train):\n"
          "    x = np.asarray(x_train, dtype='float64')\n"
          "    y = np.asarray(y_train, dtype='int64')\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm, layers.Dense(16),\n"
          "                              layers.Activation('relu'), layers.Dense(3), layers.Softmax()])\n"
          "    model.compile(optimizer=keras.optimizers.RMSprop(0.01),\n"
          "                  loss=keras.losses.sparse_categorical_crossentropy)\n"
          "    model.fit(x, y, epochs=30, batch_size=32, verbose=0)\n"
          "    return model\n"),
    right(EX3, "adapted on a tf.data pipeline, two hidden layers, plain Python list of labels",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(tf.data.Dataset.from_tensor_slices(x_train).batch(16))\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(32, activation='relu'),\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',\n"
          "                  metrics=['accuracy'])\n"
          "    labels = np.array([int(v) for v in y_train])\n"
          "    model.fit(x_train, labels, epochs=40, batch_size=16, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "no softmax: the model outputs logits, not probabilities",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x_train)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(16, activation='relu'), layers.Dense(3)])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01),\n"
          "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
          "    model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "Normalization adapted on the lesson's wine_x_train, not on its argument",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(wine_x_train)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')\n"
          "    model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "trained on every wine row (a lookup of the data set), not only its arguments",
          "def train_wine_classifier(x_train, y_train):\n"
          "    from sklearn.datasets import load_wine\n"
          "    x_all, y_all = load_wine(return_X_y=True)\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x_train)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(32, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')\n"
          "    model.fit(x_all.astype('float32'), y_all, epochs=60, batch_size=32, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "Normalization never adapted",
          "def train_wine_classifier(x_train, y_train):\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), layers.Normalization(),\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')\n"
          "    model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "three sigmoids + binary cross-entropy: outputs are not class probabilities",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x_train)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='sigmoid')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='binary_crossentropy')\n"
          "    model.fit(x_train, keras.utils.to_categorical(y_train, 3), epochs=30, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "barely trained: one epoch at a tiny learning rate",
          "def train_wine_classifier(x_train, y_train):\n"
          "    norm = layers.Normalization()\n"
          "    norm.adapt(x_train)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)), norm,\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss='sparse_categorical_crossentropy')\n"
          "    model.fit(x_train, y_train, epochs=1, verbose=0)\n"
          "    return model\n"),
    wrong(EX3, "no Normalization layer: features standardised outside the model",
          "def train_wine_classifier(x_train, y_train):\n"
          "    x = (x_train - x_train.mean(axis=0)) / x_train.std(axis=0)\n"
          "    model = keras.Sequential([keras.Input(shape=(13,)),\n"
          "                              layers.Dense(16, activation='relu'),\n"
          "                              layers.Dense(3, activation='softmax')])\n"
          "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')\n"
          "    model.fit(x, y_train, epochs=30, batch_size=32, verbose=0)\n"
          "    return model\n"),
]


# --- Exercise 4: confusion counts and metrics by hand ---------------------------------------------

def _ex4(counts: str, metrics: str) -> str:
    return ("def confusion_metrics(y_true, y_pred):\n"
            f"{counts}"
            f"{metrics}"
            '    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,\n'
            '            "precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}\n')


_EX4_COUNTS = ("    pairs = [(int(t), int(p)) for t, p in zip(y_true, y_pred)]\n"
               "    tp = sum(1 for t, p in pairs if t == 1 and p == 1)\n"
               "    fp = sum(1 for t, p in pairs if t == 0 and p == 1)\n"
               "    fn = sum(1 for t, p in pairs if t == 1 and p == 0)\n"
               "    tn = sum(1 for t, p in pairs if t == 0 and p == 0)\n")
_EX4_METRICS = ("    precision = tp / (tp + fp) if tp + fp else 0.0\n"
                "    recall = tp / (tp + fn) if tp + fn else 0.0\n"
                "    accuracy = (tp + tn) / len(pairs) if pairs else 0.0\n"
                "    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0\n")

EX4_VARIANTS = [
    right(EX4, "plain Python: a list of pairs and sums",
          _ex4(_EX4_COUNTS, _EX4_METRICS)),
    right(EX4, "collections.Counter over (true, predicted) pairs, F1 as 2TP / (2TP + FP + FN)",
          "from collections import Counter\n\n\n"
          "def confusion_metrics(y_true, y_pred):\n"
          "    seen = Counter((int(t), int(p)) for t, p in zip(y_true, y_pred))\n"
          "    tp, fp, fn, tn = seen[(1, 1)], seen[(0, 1)], seen[(1, 0)], seen[(0, 0)]\n"
          "    total = tp + fp + fn + tn\n"
          '    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,\n'
          '            "precision": tp / (tp + fp) if tp + fp > 0 else 0.0,\n'
          '            "recall": tp / (tp + fn) if tp + fn > 0 else 0.0,\n'
          '            "accuracy": (tp + tn) / total if total > 0 else 0.0,\n'
          '            "f1": 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0}\n'),
    right(EX4, "NumPy booleans, numpy ints and floats left as they are",
          "def confusion_metrics(y_true, y_pred):\n"
          "    t = np.asarray(y_true) == 1\n"
          "    p = np.asarray(y_pred) == 1\n"
          "    tp, fp = np.sum(t & p), np.sum(~t & p)\n"
          "    fn, tn = np.sum(t & ~p), np.sum(~t & ~p)\n"
          "    precision = np.float64(tp / (tp + fp)) if tp + fp else np.float64(0)\n"
          "    recall = np.float64(tp / (tp + fn)) if tp + fn else np.float64(0)\n"
          "    accuracy = np.mean(t == p)\n"
          "    f1 = 2 * precision * recall / (precision + recall) if precision + recall else np.float64(0)\n"
          '    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,\n'
          '            "precision": precision, "recall": recall, "accuracy": accuracy, "f1": f1}\n'),
    right(EX4, "scikit-learn's layout by hand: a 2x2 table indexed [true][predicted], an OrderedDict",
          "from collections import OrderedDict\n\n\n"
          "def confusion_metrics(y_true, y_pred):\n"
          "    table = [[0, 0], [0, 0]]\n"
          "    for t, p in zip(y_true, y_pred):\n"
          "        table[int(t)][int(p)] += 1\n"
          "    (tn, fp), (fn, tp) = table\n"
          "    precision = tp / (tp + fp) if tp + fp else 0.0\n"
          "    recall = tp / (tp + fn) if tp + fn else 0.0\n"
          "    n = tn + fp + fn + tp\n"
          "    accuracy = (tp + tn) / n if n else 0.0\n"
          "    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0\n"
          "    return OrderedDict(tp=tp, fp=fp, fn=fn, tn=tn, precision=precision, recall=recall,\n"
          "                       accuracy=accuracy, f1=f1)\n"),
    right(EX4, "float labels 0.0/1.0 handled with round, zero denominators by try/except",
          "def confusion_metrics(y_true, y_pred):\n"
          "    t = [round(float(v)) for v in y_true]\n"
          "    p = [round(float(v)) for v in y_pred]\n"
          "    tp = sum(a * b for a, b in zip(t, p))\n"
          "    fp = sum((1 - a) * b for a, b in zip(t, p))\n"
          "    fn = sum(a * (1 - b) for a, b in zip(t, p))\n"
          "    tn = len(t) - tp - fp - fn\n"
          "    def ratio(num, den):\n"
          "        try:\n"
          "            return num / den\n"
          "        except ZeroDivisionError:\n"
          "            return 0.0\n"
          "    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)\n"
          '    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision,\n'
          '            "recall": recall, "accuracy": ratio(tp + tn, len(t)),\n'
          '            "f1": ratio(2 * precision * recall, precision + recall)}\n'),
    wrong(EX4, "FP and FN swapped (the positive-first layout read as scikit-learn's)",
          _ex4(_EX4_COUNTS + "    fp, fn = fn, fp\n", _EX4_METRICS)),
    wrong(EX4, "precision and recall swapped",
          _ex4(_EX4_COUNTS, _EX4_METRICS + "    precision, recall = recall, precision\n")),
    wrong(EX4, "the metrics of the negative class",
          _ex4(_EX4_COUNTS,
               "    precision = tn / (tn + fn) if tn + fn else 0.0\n"
               "    recall = tn / (tn + fp) if tn + fp else 0.0\n"
               "    accuracy = (tp + tn) / len(pairs) if pairs else 0.0\n"
               "    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0\n")),
    wrong(EX4, "accuracy off by one (divides by n + 1)",
          _ex4(_EX4_COUNTS, _EX4_METRICS.replace("/ len(pairs)", "/ (len(pairs) + 1)"))),
    wrong(EX4, "NaN instead of 0.0 for a zero denominator",
          _ex4(_EX4_COUNTS, _EX4_METRICS.replace(" else 0.0", " else float('nan')"))),
    wrong(EX4, "F1 as the plain mean of precision and recall",
          _ex4(_EX4_COUNTS, _EX4_METRICS.replace(
              "2 * precision * recall / (precision + recall)", "(precision + recall) / 2"))),
    wrong(EX4, "metrics rounded to 4 decimals",
          _ex4(_EX4_COUNTS, _EX4_METRICS + "    precision, recall = round(precision, 4), round(recall, 4)\n"
                                           "    accuracy, f1 = round(accuracy, 4), round(f1, 4)\n")),
]

VARIANTS = [*EX1_VARIANTS, *EX2_VARIANTS, *EX3_VARIANTS, *EX4_VARIANTS]
