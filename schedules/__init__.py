"""The pure duty core: catalogue, frequencies, periods, holidays, windows and the job compiler."""

from .catalog import Catalog
from .compiler import JobSpec, compile_jobs, next_fire_time
from .loader import CatalogError, load_catalog, load_catalog_text
from .windows import InstanceSpec, Schedule, Window

__all__ = ["Catalog", "CatalogError", "InstanceSpec", "JobSpec", "Schedule", "Window", "compile_jobs",
           "load_catalog", "load_catalog_text", "next_fire_time"]
