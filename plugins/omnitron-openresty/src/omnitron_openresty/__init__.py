"""omnitron-openresty: the ``openresty`` gateway preset.

Your nginx config (``configDir``) plus upstream maps omnitron generates from
the plan and from where apps really listen, validated with ``nginx -t`` and
hot-reloaded (never restarted) when either changes.
"""

__version__ = "0.1.0"
