from services.orders.store import delivery, models, quote_models  # noqa: F401 (its tables, same Base)
from shared.kernel import KERNEL_METADATA
from shared.migrations import run_env

run_env([KERNEL_METADATA, models.Base.metadata])
