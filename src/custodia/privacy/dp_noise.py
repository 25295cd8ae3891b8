"""Noise for differentially private releases, from OpenDP's vetted mechanisms.

The true aggregates arrive as one vector per query (one entry per declared group). Adding or
removing one person changes that vector by at most ``sensitivity`` in L1 distance: the person's
``max_rows_per_person`` rows times what one row can move an entry (1 for a count, the larger
clamping bound's magnitude for a sum). OpenDP's Laplace mechanism over the vector (discrete for
counts, continuous for sums) is built with the smallest scale whose privacy map OpenDP itself
certifies at ``epsilon`` for that sensitivity (``binary_search_param``), so the epsilon stated with
a release is OpenDP's claim, not a formula of ours. The accuracy stated is OpenDP's: with
probability ``confidence`` a group's noise is within ``± half_width``.

OpenDP draws from the operating system's cryptographic randomness and cannot be seeded, so tests
check these outputs statistically.

Example::

    noisy = laplace_release([120, 7], sensitivity=1, epsilon=0.5, confidence=0.95)
    noisy.values, noisy.half_width        # ([118, 9], 6.43...)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import opendp.prelude

__all__ = ["NoisyVector", "laplace_release"]


@cache
def _opendp() -> Any:
    """OpenDP, imported on the first release: it pulls in scikit-learn (about 1 s of start-up
    that every ``custodia`` command would otherwise pay)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True, slots=True)
class NoisyVector:
    """Noised values, the Laplace scale used, and the half-width at the confidence asked for."""

    values: list[Any]
    scale: float
    half_width: float


def laplace_release(
    values: list[int] | list[float], *, sensitivity: float, epsilon: float, confidence: float
) -> NoisyVector:
    """Noise ``values`` at ``epsilon`` (ints: discrete Laplace, floats: Laplace)."""
    dp = _opendp()
    integer = all(isinstance(v, int) for v in values)
    kind: type = int if integer else float
    d_in: int | float = int(sensitivity) if integer else float(sensitivity)

    def measurement(scale: float) -> opendp.prelude.Measurement:
        domain = dp.vector_domain(dp.atom_domain(T=kind, nan=None if integer else False))
        made: opendp.prelude.Measurement = dp.m.make_laplace(
            domain, dp.l1_distance(T=kind), scale=scale
        )
        return made

    scale = float(dp.binary_search_param(measurement, d_in=d_in, d_out=epsilon))
    chosen = measurement(scale)
    if chosen.map(d_in) > epsilon:  # type: ignore[no-untyped-call]
        raise AssertionError("OpenDP could not certify the requested epsilon")
    noised = chosen([kind(v) for v in values]) if values else []
    alpha = 1.0 - confidence
    if integer:
        half_width = float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha))
    else:
        half_width = float(dp.laplacian_scale_to_accuracy(scale, alpha))
    return NoisyVector(list(noised), scale, half_width)
