"""Evaluation metrics. `LPIPS` (Zhang et al. 2018) and the rest are imported lazily so that
`python -m metrics.weights` does not pay for importing TensorFlow.

    LPIPS                               metrics.lpips: learned perceptual distance, one per image pair
    frechet_distance, FeatureStats      metrics.fid: Fréchet distance (FID / FCD) and streamed statistics
    mean_and_se, transform_images,      metrics.pairing: per-pair measures of pairing (standard error,
    pixel_agreement, class_agreement        derived-domain transforms, pixel and class agreement)
    mode_coverage                       metrics.modes: modes covered and high-quality share of 2-D samples (toy ring)
"""

__all__ = ["LPIPS", "frechet_distance", "FeatureStats", "mean_and_se", "transform_images", "pixel_agreement",
           "class_agreement", "mode_coverage"]

_WHERE = {"LPIPS": "lpips", "frechet_distance": "fid", "FeatureStats": "fid", "mean_and_se": "pairing",
          "transform_images": "pairing", "pixel_agreement": "pairing", "class_agreement": "pairing",
          "mode_coverage": "modes"}


def __getattr__(name):
    if name in _WHERE:
        import importlib

        try:
            module = importlib.import_module(f".{_WHERE[name]}", __name__)
        except AttributeError as e:
            # An AttributeError escaping here would read as "metrics has no X" and hide the real cause.
            raise ImportError(f"importing metrics.{_WHERE[name]} failed: {e!r}") from e
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
