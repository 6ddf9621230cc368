"""The seed's engine: QueuePool 5 + 10 overflow, nothing else tuned."""

import os

from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

DATABASE_URL = os.environ.get(
    "SEED_BEFORE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/todos_seedbefore"
)

engine = create_engine(DATABASE_URL, poolclass=QueuePool, pool_size=5, max_overflow=10)
