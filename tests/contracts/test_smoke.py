def test_bridge_deploys(project, deployer):
    bridge = deployer.deploy(project.L1Bridge)
    assert bridge.depositCount() == 0
