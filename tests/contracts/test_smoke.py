def test_bridge_deploys(project, deployer):
    bridge = deployer.deploy(project.L1Bridge, "0x01")
    assert bridge.depositCount() == 0
