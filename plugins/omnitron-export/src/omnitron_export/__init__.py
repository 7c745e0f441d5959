"""``omnitron infra export``: a stack's services as Kubernetes manifests or a compose file (pure functions of the plan)."""
