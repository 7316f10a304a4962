//! An address's story through the real ipamd: AddressHistory returns every event about an
//! address (its record, the blocks and ranges that held it), and every event a MAC address
//! or a device name appeared in, oldest first, paged, the same after a restart; bad input
//! is refused by field; `ipamctl address history` prints it.

use ipam_e2e::*;
use ipam_proto::pb;
use pb::address_history_request::Subject;
use std::process::Command;
use tonic::Code;

async fn history(
    server: &Server,
    subject: Subject,
    after_seq: u64,
    limit: u32,
) -> Result<pb::AddressHistoryReply, tonic::Status> {
    server
        .events()
        .await
        .address_history(pb::AddressHistoryRequest {
            subject: Some(subject),
            address_space_id: 0,
            after_seq,
            limit,
        })
        .await
        .map(|r| r.into_inner())
}

fn kinds(reply: &pb::AddressHistoryReply) -> Vec<String> {
    reply
        .events
        .iter()
        .map(|e| {
            let event = e.event.as_ref().and_then(|e| e.kind.as_ref()).expect("an event");
            let name = format!("{event:?}");
            name[..name.find('(').unwrap_or(name.len())].to_string()
        })
        .collect()
}

fn seqs(reply: &pb::AddressHistoryReply) -> Vec<u64> {
    reply.events.iter().map(|e| e.seq).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_tells_its_story_and_a_mac_or_name_finds_theirs() {
    let mut server = Server::start_with(&["--snapshot-every", "5"]);
    let mut ipam = server.ipam().await;
    created_id(ipam.create_block(block_params("10.0.0.0/8")).await);
    created_id(ipam.create_block(block_params("10.1.0.0/16")).await);
    let range = |network: &str| pb::CreateRangeParams {
        network: network.into(),
        ..Default::default()
    };
    created_id(ipam.create_range(range("10.1.2.0/24")).await);
    // Neighbours that are not part of the story.
    created_id(ipam.create_range(range("10.9.0.0/24")).await);
    created_id(ipam.create_block(block_params("192.168.0.0/16")).await);
    let address = created_id(
        ipam.create_address(pb::CreateAddressParams {
            address: "10.1.2.3".into(),
            mac_address: "aa:bb:cc:00:00:01".into(),
            device_name: "printer-1".into(),
            ..Default::default()
        })
        .await,
    );
    created_id(
        ipam.create_address(pb::CreateAddressParams {
            address: "10.1.2.4".into(),
            device_name: "printer-10".into(),
            ..Default::default()
        })
        .await,
    );
    ipam.update_address(pb::UpdateAddressParams {
        id: address,
        modified_properties: vec!["device_name".into()],
        device_name: "Printer-2".into(),
        ..Default::default()
    })
    .await
    .expect("UpdateAddress");
    ipam.delete_address(pb::DeleteAddressParams { id: address })
        .await
        .expect("DeleteAddress");

    let story = history(&server, Subject::Address("10.1.2.3".into()), 0, 0)
        .await
        .expect("AddressHistory");
    let kinds_seen = kinds(&story);
    for want in [
        "BlockCreated",
        "RangeCreated",
        "AddressCreated",
        "AddressUpdated",
        "AddressDeleted",
    ] {
        assert!(kinds_seen.iter().any(|k| k == want), "{want} in {kinds_seen:?}");
    }
    assert_eq!(kinds_seen.last().map(String::as_str), Some("AddressDeleted"));
    let order = seqs(&story);
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "oldest first, each once: {order:?}"
    );
    for e in &story.events {
        for stranger in ["10.9.0.", "192.168.", "10.1.2.4"] {
            assert!(
                !e.summary.contains(stranger),
                "{stranger} is not in this story: {}",
                e.summary
            );
        }
        assert_eq!(e.principal, "admin", "who did it: {e:?}");
    }
    // Both blocks held it; the second /16's adoption under the /8 is part of the story.
    let blocks = story
        .events
        .iter()
        .filter(|e| e.summary.contains("block"))
        .count();
    assert!(blocks >= 2, "{:#?}", story.events);

    // Page by page, the same events.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = history(&server, Subject::Address("10.1.2.3".into()), after, 2)
            .await
            .unwrap();
        assert!(page.events.len() <= 2);
        paged.extend(seqs(&page));
        match page.events.last() {
            Some(last) if page.more => after = last.seq,
            _ => break,
        }
    }
    assert_eq!(paged, order);

    // A MAC address and a device name find their events; a name is matched whole, any case.
    let by_mac = history(&server, Subject::Mac("AA-BB-CC-00-00-01".into()), 0, 0)
        .await
        .unwrap();
    assert_eq!(
        kinds(&by_mac),
        ["AddressCreated", "AddressUpdated", "AddressDeleted"]
    );
    let by_name = history(&server, Subject::DeviceName("PRINTER-2".into()), 0, 0)
        .await
        .unwrap();
    assert_eq!(kinds(&by_name), ["AddressUpdated", "AddressDeleted"]);
    // The name it had before: given, then taken away by the update.
    let old_name = history(&server, Subject::DeviceName("printer-1".into()), 0, 0)
        .await
        .unwrap();
    assert_eq!(kinds(&old_name), ["AddressCreated", "AddressUpdated"]);

    // The index is on disk: the same story after a restart, and events after it join.
    server.stop();
    server.restart();
    let again = history(&server, Subject::Address("10.1.2.3".into()), 0, 0)
        .await
        .unwrap();
    assert_eq!(seqs(&again), order);
    let mut ipam = server.ipam().await;
    created_id(
        ipam.create_address(pb::CreateAddressParams {
            address: "10.1.2.3".into(),
            ..Default::default()
        })
        .await,
    );
    let later = history(&server, Subject::Address("10.1.2.3".into()), 0, 0)
        .await
        .unwrap();
    assert_eq!(later.events.len(), order.len() + 1);

    // ipamctl prints it, one line per event, with who did it.
    let out = Command::new(binary("ipamctl"))
        .env_remove("IPAMCTL_TOKEN")
        .args(server.ipamctl_args())
        .args(["address", "history", "10.1.2.3"])
        .output()
        .expect("ipamctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout.lines().count(),
        later.events.len() + 1,
        "a header and the events: {stdout}"
    );
    assert!(stdout.contains("admin"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_lookups_name_their_field() {
    let server = Server::start();
    let mut events = server.events().await;
    let ask = |subject: Option<Subject>| pb::AddressHistoryRequest {
        subject,
        ..Default::default()
    };
    let cases = [
        (None, Code::InvalidArgument, "subject"),
        (
            Some(Subject::Address("10.1.2".into())),
            Code::InvalidArgument,
            "address",
        ),
        (Some(Subject::Mac("printer".into())), Code::InvalidArgument, "mac"),
        (
            Some(Subject::DeviceName(" ".into())),
            Code::InvalidArgument,
            "device_name",
        ),
    ];
    for (subject, code, field) in cases {
        let status = events.address_history(ask(subject.clone())).await.unwrap_err();
        assert_eq!(status.code(), code, "{subject:?}: {status:?}");
        assert_eq!(violated_field(&status).as_deref(), Some(field), "{status:?}");
    }
    // An address no event is about.
    let status = events
        .address_history(ask(Some(Subject::Address("192.0.2.1".into()))))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("192.0.2.1"), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reserved_address_tells_of_its_scope_reservation_and_their_removal() {
    let server = Server::start();
    let mut dhcp = server.dhcp().await;
    let d1 = created_id(
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "d1".into(),
            ..Default::default()
        })
        .await,
    );
    let scope = created_id(
        dhcp.create_scope(pb::CreateDhcpScopeParams {
            server_id: d1,
            network: "10.3.0.0/24".into(),
            name: "lab".into(),
            start_address: "10.3.0.10".into(),
            end_address: "10.3.0.200".into(),
            ..Default::default()
        })
        .await,
    );
    let reservation = created_id(
        dhcp.create_reservation(pb::CreateDhcpReservationParams {
            scope_id: scope,
            address: "10.3.0.20".into(),
            client_id: "00:11:22:33:44:55".into(),
            name: "camera-7".into(),
            ..Default::default()
        })
        .await,
    );
    dhcp.delete_reservation(pb::DeleteDhcpReservationParams {
        reservation_id: reservation,
        ..Default::default()
    })
    .await
    .expect("DeleteReservation");

    let story = history(&server, Subject::Address("10.3.0.20".into()), 0, 0)
        .await
        .unwrap();
    let seen = kinds(&story);
    for want in ["RangeCreated", "DhcpReservationPut", "DhcpReservationDeleted"] {
        assert!(seen.iter().any(|k| k == want), "{want} in {seen:?}");
    }
    // The reservation's MAC address and name find it too.
    let by_mac = history(&server, Subject::Mac("00:11:22:33:44:55".into()), 0, 0)
        .await
        .unwrap();
    // The reservation gave the address record its MAC, and its deletion took it back.
    assert_eq!(
        kinds(&by_mac),
        [
            "AddressCreated",
            "DhcpReservationPut",
            "DhcpReservationDeleted",
            "AddressUpdated"
        ]
    );
    let by_name = history(&server, Subject::DeviceName("Camera-7".into()), 0, 0)
        .await
        .unwrap();
    assert!(kinds(&by_name).contains(&"DhcpReservationPut".to_string()));
    // An address of the scope that nothing else touched has the scope's range only.
    let quiet = history(&server, Subject::Address("10.3.0.99".into()), 0, 0)
        .await
        .unwrap();
    assert!(
        kinds(&quiet).iter().all(|k| k.starts_with("Range")),
        "{:?}",
        kinds(&quiet)
    );
}
