"""Evaluation metrics. `LPIPS` (Zhang et al. 2018) is imported lazily so that `python -m metrics.weights`
does not pay for importing TensorFlow."""

__all__ = ["LPIPS"]


def __getattr__(name):
    if name == "LPIPS":
        try:
            from .lpips import LPIPS
        except AttributeError as e:
            # An AttributeError escaping here would read as "metrics has no LPIPS" and hide the real cause.
            raise ImportError(f"importing metrics.lpips failed: {e!r}") from e
        return LPIPS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
