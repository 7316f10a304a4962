//! IPAM driving real ISC Kea servers: two kea-dhcp4 daemons on loopback (unix control
//! sockets, no interfaces, so no DHCP traffic), installed from Debian when missing. What is
//! checked is what each daemon's own `config-get` says, and what ipamd records; every wait
//! is for an observable condition with a bounded deadline.

use ipam_e2e::kea::{ensure_kea, eventually, pools, pushed_to, pushes, scope, start_kea};
use ipam_e2e::{Conn, DhcpClient, IpamClient, Server, block_params, created_id};
use ipam_kea::local::LocalKea;
use ipam_proto::pb;
use serde_json::json;

/// Runs a collection; for `server`: (leases read, new or changed, ended, recorded).
async fn collect(dhcp: &mut DhcpClient<Conn>, server: &str) -> (u64, u64, u64, bool) {
    let answer = dhcp
        .collect_leases(pb::CollectLeasesRequest {})
        .await
        .unwrap()
        .into_inner();
    let c = answer
        .servers
        .iter()
        .find(|c| c.server == server)
        .unwrap_or_else(|| panic!("{server} not collected: {answer:?}"));
    assert!(c.error.is_empty(), "{c:?}");
    // The server's own statistics agree with the lease list it gave.
    assert_eq!(c.server_assigned, Some(c.leases), "{c:?}");
    (c.leases, c.new_or_changed, c.ended, c.operation_id != 0)
}

async fn server_row(dhcp: &mut DhcpClient<Conn>, id: u64) -> pb::DhcpServer {
    dhcp.get_server(pb::GetByIdRequest { id, as_of: None })
        .await
        .unwrap()
        .into_inner()
}

async fn scope_row(dhcp: &mut DhcpClient<Conn>, id: u64) -> pb::DhcpScope {
    dhcp.get_scope(pb::GetByIdRequest { id, as_of: None })
        .await
        .unwrap()
        .into_inner()
}

struct Setup {
    _temp: tempfile::TempDir,
    kea1: LocalKea,
    kea2: LocalKea,
    ipamd: Server,
    dhcp: DhcpClient<Conn>,
    ipam: IpamClient<Conn>,
    server1: u64,
    server2: u64,
}

async fn setup() -> Setup {
    ensure_kea();
    let temp = tempfile::tempdir().unwrap();
    let kea1 = start_kea(&temp.path().join("kea1"));
    let kea2 = start_kea(&temp.path().join("kea2"));
    // Collections run when a test asks (CollectLeases), not on a timer: each one then
    // reports exactly the changes the test made.
    let ipamd = Server::start_with(&["--dhcp-collect-interval-s", "3600", "--dhcp-retry-max-s", "1"]);
    let mut dhcp = ipamd.dhcp().await;
    let mut ipam = ipamd.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let server = |name: &str, kea: &LocalKea| pb::CreateDhcpServerParams {
        name: name.into(),
        control: kea.control_url(),
        ..Default::default()
    };
    let server1 = created_id(dhcp.create_server(server("dhcp1.test", &kea1)).await);
    let server2 = created_id(dhcp.create_server(server("dhcp2.test", &kea2)).await);
    Setup {
        _temp: temp,
        kea1,
        kea2,
        ipamd,
        dhcp,
        ipam,
        server1,
        server2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_reservations_and_replicas_reach_kea() {
    let Setup {
        kea1,
        kea2,
        mut dhcp,
        server1,
        server2,
        ipamd,
        _temp,
        ..
    } = setup().await;
    let bad_control = dhcp
        .create_server(pb::CreateDhcpServerParams {
            name: "dhcp3.test".into(),
            control: "http://nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(bad_control.message().contains("control"), "{bad_control:?}");

    // A created scope appears in config-get, owned by IPAM; the operator's subnet stays.
    // The call answers once the server has it, and says so.
    let created = dhcp
        .create_scope(scope(server1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pushes(&created), pushed_to("dhcp1.test"));
    // The item also says what the server runs that IPAM did not push.
    let drift = &created.items[0].dhcp_pushes[0].drift;
    assert_eq!(drift, &["subnet 192.168.77.0/24 is not IPAM's".to_string()]);
    let a = created.result.unwrap().record_id;
    let subnet = kea1
        .subnet("10.1.0.0/24")
        .expect("scope A on kea1 when the call answers");
    assert_eq!(subnet["id"], a);
    assert_eq!(subnet["user-context"]["ipam"]["scope"], a);
    assert_eq!(pools(&subnet), vec!["10.1.0.10-10.1.0.200"]);
    assert_eq!(subnet["valid-lifetime"], 3600);
    assert!(
        kea1.subnet("192.168.77.0/24").is_some(),
        "the operator's subnet was removed"
    );
    let pushed = eventually("the push recorded", async || {
        Some(server_row(&mut dhcp, server1).await).filter(|s| s.pushed_seq > 0)
    })
    .await;
    assert!(
        pushed.push_failure.is_empty() && !pushed.config_hash.is_empty(),
        "{pushed:?}"
    );

    // A reservation reaches the server; then an edited pool (with an exclusion); then the
    // reservation's deletion.
    let reservation = created_id(
        dhcp.create_reservation(pb::CreateDhcpReservationParams {
            scope_id: a,
            address: "10.1.0.50".into(),
            client_id: "aa-bb-cc-dd-ee-01".into(),
            name: "printer".into(),
            ..Default::default()
        })
        .await,
    );
    let subnet = eventually("the reservation on kea1", async || {
        kea1.subnet("10.1.0.0/24")
            .filter(|s| s["reservations"].as_array().is_some_and(|r| !r.is_empty()))
    })
    .await;
    assert_eq!(subnet["reservations"][0]["hw-address"], "aa:bb:cc:dd:ee:01");
    assert_eq!(subnet["reservations"][0]["ip-address"], "10.1.0.50");
    dhcp.update_scope(pb::UpdateDhcpScopeParams {
        id: a,
        modified_properties: vec!["start_address".into(), "end_address".into(), "exclusions".into()],
        start_address: "10.1.0.20".into(),
        end_address: "10.1.0.150".into(),
        exclusions: vec![pb::ExclusionRange {
            start_address: "10.1.0.100".into(),
            end_address: "10.1.0.109".into(),
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    eventually("the edited pool on kea1", async || {
        kea1.subnet("10.1.0.0/24")
            .filter(|s| pools(s) == ["10.1.0.20-10.1.0.99", "10.1.0.110-10.1.0.150"])
    })
    .await;
    dhcp.delete_reservation(pb::DeleteDhcpReservationParams {
        reservation_id: reservation,
        ..Default::default()
    })
    .await
    .unwrap();
    eventually("the reservation gone from kea1", async || {
        kea1.subnet("10.1.0.0/24")
            .filter(|s| s["reservations"].as_array().is_some_and(|r| r.is_empty()))
    })
    .await;

    // Replication truly configures the partner.
    dhcp.create_failover(pb::CreateDhcpFailoverParams {
        name: "pair".into(),
        server1_id: server1,
        server2_id: server2,
        mode: pb::FailoverMode::HotStandby as i32,
        mclt_s: 3600,
        scope_ids: vec![a],
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(kea2.subnet("10.1.0.0/24").is_none());
    let replicated = dhcp
        .replicate_scope(pb::ReplicateScopeParams {
            scope_ids: vec![a],
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pushes(&replicated), pushed_to("dhcp2.test"));
    let replica = kea2
        .subnet("10.1.0.0/24")
        .expect("the replica on kea2 when the call answers");
    assert_eq!(
        pools(&replica),
        vec!["10.1.0.20-10.1.0.99", "10.1.0.110-10.1.0.150"]
    );
    // The replica is its own scope, served under the primary's Kea subnet id (HA's lease
    // updates name subnets by id).
    assert_ne!(
        replica["user-context"]["ipam"]["scope"], a,
        "the replica is its own scope"
    );
    assert_eq!(replica["id"], a);

    // A deleted scope leaves the server (and only IPAM's subnets go).
    let b = created_id(
        dhcp.create_scope(scope(server1, "10.2.0.0/24", "10.2.0.10", "10.2.0.20"))
            .await,
    );
    eventually("scope B on kea1", async || kea1.subnet("10.2.0.0/24")).await;
    dhcp.delete_scope(pb::DeleteDhcpScopeParams { id: b })
        .await
        .unwrap();
    eventually("scope B gone from kea1", async || {
        Some(()).filter(|_| kea1.subnet("10.2.0.0/24").is_none())
    })
    .await;
    assert!(kea1.subnet("192.168.77.0/24").is_some() && kea1.subnet("10.1.0.0/24").is_some());
    assert!(ipamd.log_text().contains("pushed to Kea"));

    // The operator's subnet is reported as drift, not touched.
    let mut admin = ipamd.admin().await;
    eventually("drift in the status", async || {
        let status = admin
            .get_status(pb::GetStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        status
            .problems
            .iter()
            .find(|p| p.contains("dhcp1.test: drift: subnet 192.168.77.0/24 is not IPAM's"))
            .cloned()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_down_servers_and_refusals() {
    let Setup {
        kea1,
        mut kea2,
        mut dhcp,
        mut ipam,
        server1,
        server2,
        ipamd,
        _temp,
    } = setup().await;
    let a = created_id(
        dhcp.create_scope(scope(server1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200"))
            .await,
    );
    eventually("scope A on kea1", async || kea1.subnet("10.1.0.0/24")).await;

    // A lease made on Kea shows up as utilization in ipamd, and goes when it ends; a
    // collection that finds nothing new writes nothing.
    kea1.command(
        "lease4-add",
        Some(json!({"ip-address": "10.1.0.20", "hw-address": "11:22:33:44:55:66", "hostname": "laptop"})),
    );
    assert_eq!(collect(&mut dhcp, "dhcp1.test").await, (1, 1, 0, true));
    let leased = scope_row(&mut dhcp, a).await;
    assert_eq!(leased.utilization.as_ref().unwrap().utilized, 1);
    assert_eq!(collect(&mut dhcp, "dhcp1.test").await, (1, 0, 0, false));
    let range = ipam
        .get_range(pb::GetByIdRequest {
            id: leased.range_id,
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(range.utilization.unwrap().utilized, 1);
    kea1.command("lease4-del", Some(json!({"ip-address": "10.1.0.20"})));
    assert_eq!(collect(&mut dhcp, "dhcp1.test").await, (0, 0, 1, true));
    let ended = scope_row(&mut dhcp, a).await;
    assert_eq!(ended.utilization.as_ref().unwrap().utilized, 0);

    // A stopped server gets its push when it is back; IPAM committed the scope regardless.
    kea2.stop();
    let created = dhcp
        .create_scope(scope(server2, "10.5.0.0/24", "10.5.0.10", "10.5.0.50"))
        .await
        .unwrap()
        .into_inner();
    let [(name, state, message)] = &pushes(&created)[..] else {
        panic!("one server: {created:?}")
    };
    assert_eq!((name.as_str(), *state), ("dhcp2.test", pb::DhcpPushState::Failed));
    assert!(message.contains("ctrl.sock"), "{message}");
    let down = eventually("the failed push recorded", async || {
        Some(server_row(&mut dhcp, server2).await).filter(|s| !s.push_failure.is_empty())
    })
    .await;
    assert!(down.push_failure.contains("ctrl.sock"), "{down:?}");
    kea2.spawn().expect("restarting kea-dhcp4");
    eventually("the push after the restart", async || kea2.subnet("10.5.0.0/24")).await;
    // The operation now says the server has it.
    let mut ops = ipamd.ops().await;
    eventually("the operation's item pushed", async || {
        let op = ops
            .get_operation(pb::GetOperationRequest {
                id: created.id,
                include_items: true,
            })
            .await
            .unwrap()
            .into_inner();
        Some(()).filter(|_| pushes(&op) == pushed_to("dhcp2.test"))
    })
    .await;
    eventually("the recovered push recorded", async || {
        Some(server_row(&mut dhcp, server2).await).filter(|s| s.push_failure.is_empty() && s.pushed_seq > 0)
    })
    .await;

    // A configuration Kea refuses fails with Kea's own message and changes nothing there.
    let before = kea1.subnets();
    let bad = pb::CreateDhcpScopeParams {
        options: vec![pb::DhcpOption {
            code: 3,
            value: "not-an-address".into(),
        }],
        ..scope(server1, "10.6.0.0/24", "10.6.0.10", "10.6.0.50")
    };
    let created = dhcp.create_scope(bad).await.unwrap().into_inner();
    let [(_, state, message)] = &pushes(&created)[..] else {
        panic!("one server: {created:?}")
    };
    assert_eq!(*state, pb::DhcpPushState::Failed);
    assert!(message.contains("config-test"), "{message}");
    let refused = eventually("the refusal recorded", async || {
        Some(server_row(&mut dhcp, server1).await).filter(|s| !s.push_failure.is_empty())
    })
    .await;
    assert!(refused.push_failure.contains("config-test"), "{refused:?}");
    assert!(
        refused.push_failure.to_lowercase().contains("option"),
        "{refused:?}"
    );
    assert_eq!(
        kea1.subnets(),
        before,
        "a refused configuration changed the server"
    );
}
