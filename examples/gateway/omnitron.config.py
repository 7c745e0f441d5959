"""Two apps behind an OpenResty gateway: routes from infra/nginx, upstreams generated, a rate limit in Lua."""

from omnitron import define_ecosystem

ecosystem = define_ecosystem(
    project="gateway-example",
    apps=[
        {"name": "orders", "command": ["python", "main.py"]},
        {"name": "inventory", "command": ["python", "main.py"]},
    ],
    infrastructure={
        "services": {
            "cache": {"preset": "redis"},
            # the gateway's own Redis DB index (redis: true) holds the rate limit's counters
            "gateway": {"preset": "openresty", "config": {"configDir": "./infra/nginx", "redis": True}},
        },
    },
    # clear of anything already listening on 6379 or 8080 on this machine
    stacks={
        "dev": {"portOffsets": 20000},
        # the same services as Docker Swarm services, or exported (omnitron infra export --stack cluster)
        "cluster": {"type": "cluster", "provider": "swarm", "portOffsets": 22000},
    },
)
