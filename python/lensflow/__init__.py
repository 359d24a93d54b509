"""lensflow: binary-lens microlensing forward model, simulator and neural posterior (docs/python.md)."""
from . import _lensflow, conventions
from ._lensflow import cuda_device_available, default_thread_count, has_cuda, set_num_threads
from .forward import caustics, critical_curves, finite_mag, lightcurve, point_mag, single_lens_mag
from .inference import Posterior, Samples, refine_is
from .simulation import PARAMETER_NAMES, Prior, realize, simulate

__version__ = "0.1.0"
