def test_an_app_gets_the_url_and_the_container_its_memory(omnitron_project):
    eco = {"infrastructure": {"services": {"cache": {"preset": "memcached", "config": {"memory": 128}}}},
           "stacks": {"dev": {"serviceOverrides": {"cache": {"external": {"host": "10.1.2.3", "ports": {"main": 11211}}}}}}}
    plan = omnitron_project.write(eco, {"web": {"services": {"cache": True}}}).plan()
    assert plan.apps["web"].env["MEMCACHED_URL"].template == "memcache://${host}:${port:main}"
    assert (plan.service("cache").host, plan.service("cache").config) == ("10.1.2.3", {"port": 11211, "memory": 128})
