"""The example ecosystem: a shared Postgres and Redis, and two apps that declare what they need."""

from omnitron import define_ecosystem

ecosystem = define_ecosystem(
    project="shop",
    apps=[
        {"name": "orders", "command": ["python", "main.py"]},
        {"name": "inventory", "command": ["python", "main.py"]},
    ],
    infrastructure={
        "services": {
            "db": {"preset": "postgres", "config": {"extensions": ["pgcrypto"]}},
            "cache": {"preset": "redis", "config": {"maxmemory": "64mb", "maxmemoryPolicy": "allkeys-lru"}},
        },
    },
    stacks={
        # Offsets keep the example clear of a Postgres or Redis already running on this machine.
        "dev": {"type": "local", "portOffsets": 20000},
        "test": {"type": "local", "portOffsets": 21000, "redisDbOffset": 4},
        # The same services as Docker Swarm services (omnitron-provider-swarm), or exported to Kubernetes
        # (omnitron infra export --stack cluster --format kubernetes).
        "cluster": {"type": "cluster", "provider": "swarm", "portOffsets": 22000},
    },
)
