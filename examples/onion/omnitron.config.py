"""A site published as a Tor hidden service: tor forwards the onion's port 80 to the app's declared port."""

from omnitron import define_ecosystem

ecosystem = define_ecosystem(
    project="onion",
    apps=[{"name": "site", "command": ["python", "main.py"]}],
    infrastructure={
        "services": {
            "tor": {
                "preset": "tor",
                "config": {"hiddenServices": [{"name": "site", "virtualPort": 80, "target": "site"}]},
            },
        },
    },
    stacks={"dev": {"type": "local"}, "cluster": {"type": "cluster", "provider": "swarm"}},
)
