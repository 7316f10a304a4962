//! IPAM bringing a real Kea's own configuration in, and giving a failover pair Kea's HA:
//! kea-dhcp4 daemons (and control agents) on loopback, checked by what each daemon's own
//! `config-get` and HA commands say.

use ipam_e2e::kea::{ensure_kea, pools, pushed_to, pushes, scope, start_kea};
use ipam_e2e::{Conn, DhcpClient, Server, block_params, created_id};
use ipam_kea::local::LocalKea;
use ipam_proto::pb;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_own_subnets_are_imported_as_scopes() {
    ensure_kea();
    let temp = tempfile::tempdir().unwrap();
    // A server someone configured by hand: a subnet with two pools, a reservation outside
    // them, an option and a lease time; and a subnet without pools.
    let operator = json!([
        {"id": 50, "subnet": "192.168.50.0/24", "valid-lifetime": 1200,
         "pools": [{"pool": "192.168.50.200 - 192.168.50.220"}, {"pool": "192.168.50.100 - 192.168.50.150"}],
         "reservations": [{"hw-address": "aa:bb:cc:00:00:01", "ip-address": "192.168.50.10", "hostname": "nas"}],
         "option-data": [{"code": 3, "data": "192.168.50.1"}]},
        {"id": 77, "subnet": "192.168.77.0/24"}
    ]);
    let kea = LocalKea::start(&temp.path().join("kea"), operator).expect("starting kea-dhcp4");
    let ipamd = Server::start_with(&["--dhcp-collect-interval-s", "3600"]);
    let (mut dhcp, mut ipam) = (ipamd.dhcp().await, ipamd.ipam().await);
    ipam.create_block(block_params("192.168.0.0/16")).await.unwrap();
    let server = created_id(
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "hand-made.test".into(),
            control: kea.control_url(),
            ..Default::default()
        })
        .await,
    );
    let import = |dry_run| pb::ImportServerConfigRequest {
        server_id: server,
        address_space_id: 0,
        dry_run,
    };
    let items = |op: &pb::Operation| -> Vec<(pb::ItemStatus, pb::ItemAction)> {
        op.items
            .iter()
            .map(|i| {
                (
                    pb::ItemStatus::try_from(i.status).unwrap(),
                    pb::ItemAction::try_from(i.action).unwrap(),
                )
            })
            .collect()
    };
    let list = async |dhcp: &mut DhcpClient<Conn>| {
        dhcp.list_scopes(pb::ListDhcpScopesRequest {
            server_id: server,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .scopes
    };

    // A dry run decides both subnets and writes nothing.
    let dry = dhcp
        .import_server_config(import(true))
        .await
        .unwrap()
        .into_inner();
    use pb::{ItemAction as A, ItemStatus as S};
    assert_eq!(items(&dry), [(S::Succeeded, A::Created), (S::Skipped, A::None)]);
    assert!(list(&mut dhcp).await.is_empty());

    // The import: the scope is IPAM's, with the server's pools as its range less
    // exclusions, its reservation, option and lease time.
    let done = dhcp
        .import_server_config(import(false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(items(&done), [(S::Succeeded, A::Created), (S::Skipped, A::None)]);
    assert_eq!(pushes(&done), pushed_to("hand-made.test"));
    let [scope] = &list(&mut dhcp).await[..] else {
        panic!("one scope expected")
    };
    assert_eq!(
        (
            scope.network.as_str(),
            scope.start_address.as_str(),
            scope.end_address.as_str()
        ),
        ("192.168.50.0/24", "192.168.50.10", "192.168.50.220")
    );
    assert_eq!(scope.lease_duration_s, 1200);
    assert_eq!(scope.options[0].value, "192.168.50.1");
    let reservations = dhcp
        .list_reservations(pb::ListDhcpReservationsRequest {
            scope_id: scope.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reservations;
    assert_eq!(reservations.len(), 1);
    assert_eq!(reservations[0].client_id, "aa:bb:cc:00:00:01");

    // What the server serves now is IPAM's entry in place of the hand-made one, with the
    // same pools and reservation; the subnet without pools stays the operator's.
    let subnets = kea.subnets();
    let fifty: Vec<&Value> = subnets
        .iter()
        .filter(|s| s["subnet"] == "192.168.50.0/24")
        .collect();
    assert_eq!(fifty.len(), 1, "{subnets:?}");
    assert_eq!(fifty[0]["user-context"]["ipam"]["scope"], scope.id);
    assert_eq!(
        pools(fifty[0]),
        ["192.168.50.100-192.168.50.150", "192.168.50.200-192.168.50.220"]
    );
    assert_eq!(fifty[0]["reservations"][0]["ip-address"], "192.168.50.10");
    assert!(kea.subnet("192.168.77.0/24").is_some());

    // Importing again changes nothing: the server's subnet is IPAM's now, and a scope IPAM
    // has already is left as it is when a list of scopes names it (ImportScopes).
    let again = dhcp
        .import_server_config(import(false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(items(&again), [(S::Skipped, A::None)]);
    let named = dhcp
        .import_scopes(pb::ImportDhcpScopesParams {
            server_id: server,
            scopes: vec![pb::ImportedDhcpScope {
                network: "192.168.50.0/24".into(),
                pools: vec![pb::DhcpPool {
                    start_address: "192.168.50.100".into(),
                    end_address: "192.168.50.150".into(),
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(items(&named), [(S::Succeeded, A::Unchanged)]);
    assert_eq!(list(&mut dhcp).await.len(), 1);
}

/// The HA hook's parameters in a server's running configuration, if it has one.
fn ha_hook(kea: &LocalKea) -> Option<Value> {
    let config = kea.command("config-get", None);
    config["arguments"]["Dhcp4"]["hooks-libraries"]
        .as_array()?
        .iter()
        .find(|h| {
            h["library"]
                .as_str()
                .is_some_and(|l| l.ends_with("libdhcp_ha.so"))
        })
        .map(|h| h["parameters"]["high-availability"][0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_relationship_becomes_kea_high_availability() {
    ensure_kea();
    let temp = tempfile::tempdir().unwrap();
    let mut kea1 = start_kea(&temp.path().join("kea1"));
    let mut kea2 = start_kea(&temp.path().join("kea2"));
    kea1.start_agent().expect("starting kea-ctrl-agent 1");
    kea2.start_agent().expect("starting kea-ctrl-agent 2");
    let ipamd = Server::start_with(&["--dhcp-collect-interval-s", "3600"]);
    let (mut dhcp, mut ipam) = (ipamd.dhcp().await, ipamd.ipam().await);
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let server = |name: &str, kea: &LocalKea| pb::CreateDhcpServerParams {
        name: name.into(),
        control: kea.agent_url().unwrap(),
        ..Default::default()
    };
    let server1 = created_id(dhcp.create_server(server("dhcp1.test", &kea1)).await);
    let server2 = created_id(dhcp.create_server(server("dhcp2.test", &kea2)).await);
    let a = created_id(
        dhcp.create_scope(scope(server1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200"))
            .await,
    );
    assert!(ha_hook(&kea1).is_none(), "no relationship, no HA");

    // The relationship is pushed to both servers (through their control agents) as their
    // HA configuration: each names itself and the other, in the relationship's mode.
    let created = dhcp
        .create_failover(pb::CreateDhcpFailoverParams {
            name: "pair".into(),
            server1_id: server1,
            server2_id: server2,
            mode: pb::FailoverMode::HotStandby as i32,
            mclt_s: 3600,
            auto_state_transition: true,
            state_switch_interval_s: 30,
            scope_ids: vec![a],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut servers: Vec<String> = pushes(&created)
        .into_iter()
        .map(|(name, state, message)| {
            assert_eq!(state, pb::DhcpPushState::Pushed, "{name}: {message}");
            name
        })
        .collect();
    servers.sort();
    assert_eq!(servers, ["dhcp1.test", "dhcp2.test"]);
    for (kea, me, role) in [(&kea1, "dhcp1.test", "primary"), (&kea2, "dhcp2.test", "standby")] {
        let ha = ha_hook(kea).unwrap_or_else(|| panic!("{me} has no HA hook"));
        assert_eq!(ha["this-server-name"], me);
        assert_eq!(ha["mode"], "hot-standby");
        assert_eq!(ha["max-response-delay"], 30_000);
        let peer = ha["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == me)
            .cloned()
            .unwrap();
        assert_eq!(peer["role"], role);
        // The hook runs: it answers its own command.
        assert_eq!(kea.command("ha-heartbeat", None)["result"], 0);
    }
    // Replication then gives the partner the scope, under the same relationship.
    dhcp.replicate_scope(pb::ReplicateScopeParams {
        scope_ids: vec![a],
        dry_run: false,
    })
    .await
    .unwrap();
    // One subnet, one Kea subnet id on both partners (HA updates leases by subnet id).
    let replica = kea2.subnet("10.1.0.0/24").expect("the replica on kea2");
    assert_eq!(replica["id"], kea1.subnet("10.1.0.0/24").unwrap()["id"]);
    assert_ne!(
        replica["user-context"]["ipam"]["scope"], a,
        "the replica is its own scope"
    );

    // The relationship goes: so does the HA configuration IPAM pushed.
    let failover = created.result.unwrap().record_id;
    dhcp.delete_failover(pb::DhcpFailoverDeleteParams {
        failover_id: failover,
        force: false,
    })
    .await
    .unwrap();
    assert!(ha_hook(&kea1).is_none() && ha_hook(&kea2).is_none());

    // Load balancing: both partners allocate, so a linked scope's pools are split between
    // the HA classes of the two servers, on both of them.
    let b = created_id(
        dhcp.create_scope(scope(server1, "10.2.0.0/24", "10.2.0.10", "10.2.0.209"))
            .await,
    );
    let balanced = dhcp
        .create_failover(pb::CreateDhcpFailoverParams {
            name: "balanced".into(),
            server1_id: server1,
            server2_id: server2,
            mode: pb::FailoverMode::LoadBalance as i32,
            mclt_s: 3600,
            scope_ids: vec![b],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for (name, state, message) in pushes(&balanced) {
        assert_eq!(state, pb::DhcpPushState::Pushed, "{name}: {message}");
    }
    dhcp.replicate_scope(pb::ReplicateScopeParams {
        scope_ids: vec![b],
        dry_run: false,
    })
    .await
    .unwrap();
    let want = json!([
        {"pool": "10.2.0.10-10.2.0.109", "client-class": "HA_dhcp1.test"},
        {"pool": "10.2.0.110-10.2.0.209", "client-class": "HA_dhcp2.test"},
    ]);
    for kea in [&kea1, &kea2] {
        assert_eq!(ha_hook(kea).unwrap()["mode"], "load-balancing");
        let pools: Vec<Value> = kea.subnet("10.2.0.0/24").expect("the balanced scope")["pools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                json!({
                    "pool": p["pool"].as_str().unwrap().replace(' ', ""),
                    "client-class": p["client-class"],
                })
            })
            .collect();
        assert_eq!(Value::Array(pools), want);
    }
}
