"""An app with a database and a Redis, and tests that get each its own clean database (the omnitron pytest plugin)."""

from omnitron import define_ecosystem

ecosystem = define_ecosystem(
    project="orders-example",
    apps=[{"name": "orders"}],
    infrastructure={
        "services": {
            "db": {"preset": "postgres"},
            "cache": {"preset": "redis"},
        },
    },
    stacks={
        "dev": {"type": "local", "portOffsets": 25000},
        # what the tests bring up (the pytest plugin picks the stack named `test`)
        "test": {"type": "local", "portOffsets": 26000, "redisDbOffset": 2},
    },
)
