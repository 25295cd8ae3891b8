"""Regenerate the ChannelAttribution reference numbers in this folder (provenance of the fixture).

``journeys.csv`` holds 400 synthetic journeys (seeded; Chinese and English channel names) in
ChannelAttribution's own format. ``channelattribution_journeys.json`` holds what
ChannelAttribution 2.2.5 (Python build of the R/C++ package, GPL-3, run in its own virtualenv,
never imported by Custodia) reports on them: the heuristic models and the first-order Markov
model (simulated: nsim_start=1e8, nfold=10, seed=0, so its noise is far below 1%;
max_step=200: by default a simulated walk longer than the longest journey counts as lost,
which on these short journeys takes about 1% from the channels of the long ones).

    python -m venv /tmp/ca && /tmp/ca/bin/pip install ChannelAttribution==2.2.5 'pandas<3'
    /tmp/ca/bin/python tests/data/attribution/make_channelattribution_reference.py [--journeys]

``--journeys`` rewrites journeys.csv too (same seed, same rows).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
CHANNELS = ("微信", "抖音", "email", "sms", "baidu", "小红书")


def write_journeys(path: Path) -> None:
    rng = np.random.default_rng(20261124)
    seen: dict[str, list[float]] = {}
    for _ in range(3000):
        length = 1 + rng.poisson(1.6)
        steps = rng.choice(len(CHANNELS), size=length, p=[0.3, 0.25, 0.15, 0.1, 0.12, 0.08])
        key = " > ".join(CHANNELS[i] for i in steps)
        p_conv = 0.05 + 0.08 * (0 in steps) + 0.05 * (4 in steps[-1:]) + 0.02 * length
        row = seen.setdefault(key, [0, 0.0, 0])
        if rng.random() < p_conv:
            row[0] += 1
            row[1] += round(float(rng.gamma(2.0, 150.0)), 2)
        else:
            row[2] += 1
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["path", "total_conversions", "total_conversion_value", "total_null"])
        for key, (conv, value, nulls) in sorted(seen.items()):
            writer.writerow([key, int(conv), round(value, 2), int(nulls)])


def reference(journeys: Path) -> dict[str, object]:
    import ChannelAttribution as ca  # noqa: N813  (GPL-3: only in its own virtualenv)
    import pandas as pd

    data = pd.read_csv(journeys, sep=";")
    args = ("path", "total_conversions")
    heuristic = ca.heuristic_models(data, *args, var_value="total_conversion_value", flg_pro=False)
    markov = ca.markov_model(
        data, *args, var_value="total_conversion_value", var_null="total_null",
        nsim_start=1e8, max_step=200, seed=0, out_more=True, flg_pro=False, verbose=False,
    )  # fmt: skip
    return {
        "provenance": "ChannelAttribution 2.2.5 (PyPI sdist built here), "
        "tests/data/attribution/make_channelattribution_reference.py",
        "heuristic": heuristic.to_dict(orient="records"),
        "markov": markov["result"].to_dict(orient="records"),
        "markov_removal_effects": markov["removal_effects"].to_dict(orient="records"),
        "markov_settings": {"order": 1, "nsim_start": 1e8, "max_step": 200, "nfold": 10, "seed": 0},
    }


if __name__ == "__main__":
    journeys = HERE / "journeys.csv"
    if "--journeys" in sys.argv or not journeys.exists():
        write_journeys(journeys)
    result = reference(journeys)
    out = HERE / "channelattribution_journeys.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
