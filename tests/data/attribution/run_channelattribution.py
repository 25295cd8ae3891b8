"""Run ChannelAttribution (GPL-3, in its own virtualenv) on journeys; write its answers as JSON.

    PY run_channelattribution.py package|JOURNEYS.csv OUT.json

``package``: the example Data.csv shipped inside ChannelAttribution. Heuristic models, and the
first-order Markov model simulated with 2e7 paths in one fold (seed 0) so that its noise stays
well under 1% for every channel holding 1% of the conversions or more.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import ChannelAttribution as ca  # noqa: N813
import cypack
import pandas as pd

source, out = sys.argv[1], Path(sys.argv[2])
data_path = Path(cypack.__file__).parent / "data" / "Data.csv" if source == "package" else source
data = pd.read_csv(data_path, sep=";")
args = ("path", "total_conversions")
heuristic = ca.heuristic_models(data, *args, var_value="total_conversion_value", flg_pro=False)
markov = ca.markov_model(
    data, *args, var_value="total_conversion_value", var_null="total_null",
    nsim_start=2e7, nfold=1, seed=0, flg_pro=False, verbose=False,
)  # fmt: skip
out.write_text(
    json.dumps(
        {
            "data": str(data_path),
            "heuristic": heuristic.to_dict(orient="records"),
            "markov": markov.to_dict(orient="records"),
        },
        ensure_ascii=False,
    ),
    encoding="utf-8",
)
