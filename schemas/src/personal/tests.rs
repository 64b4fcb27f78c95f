use super::*;
use std::sync::Arc;

fn key() -> (MasterKey, SubjectKey) {
    let master = MasterKey::generate();
    let (k, _) = master.new_subject_key(Uuid::now_v7());
    (master, k)
}

#[test]
fn personal_values_never_show_in_debug_output() {
    let p = Personal::from("+55 11 99999-0000");
    assert_eq!(format!("{p:?}"), "Personal(..)");
}

#[test]
fn without_a_sealer_a_personal_value_is_a_plain_string() {
    let p = Personal::from("Olá");
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"Olá\"");
    let back: Personal<String> = serde_json::from_str("\"Olá\"").unwrap();
    assert_eq!(back, p);
}

#[test]
fn with_a_sealer_the_stored_value_is_ciphertext_and_opens_with_the_key() {
    let (_, k) = key();
    let k = Arc::new(k);
    let stored = with_sealer(k.clone(), || {
        serde_json::to_value(Personal::from("Olá")).unwrap()
    });
    assert_eq!(sealed_key_id(&stored), Some(k.id()));
    assert!(!stored.to_string().contains("Olá"));
    let back: Personal<String> = with_opener(k, || serde_json::from_value(stored).unwrap());
    assert_eq!(back.expose(), "Olá");
}

#[test]
fn a_value_whose_key_is_gone_reads_as_erased() {
    let (_, k) = key();
    let stored = with_sealer(Arc::new(k), || {
        serde_json::to_value(Personal::from("Olá")).unwrap()
    });
    let back: Personal<String> = with_opener(Arc::new(KeySet::default()), || {
        serde_json::from_value(stored).unwrap()
    });
    assert!(back.is_erased());
}

#[test]
fn two_seals_of_one_value_differ() {
    let (_, k) = key();
    let k = Arc::new(k);
    let a = with_sealer(k.clone(), || {
        serde_json::to_value(Personal::from("x")).unwrap()
    });
    let b = with_sealer(k, || serde_json::to_value(Personal::from("x")).unwrap());
    assert_ne!(a, b, "a fresh nonce per field");
}

#[test]
fn a_subject_key_opens_only_with_its_own_master_key() {
    let master = MasterKey::generate();
    let (_, wrapped) = master.new_subject_key(Uuid::now_v7());
    assert!(master.open_subject_key(Uuid::now_v7(), &wrapped).is_ok());
    let other = MasterKey::generate();
    assert_eq!(
        other
            .open_subject_key(Uuid::now_v7(), &wrapped)
            .unwrap_err(),
        CryptoError::WrongMasterKey
    );
}

#[test]
fn a_master_key_round_trips_through_base64_and_rejects_bad_text() {
    let m = MasterKey::generate();
    let again = MasterKey::from_base64(&m.to_base64()).unwrap();
    assert_eq!(again.unwrap_bytes(&m.wrap(b"check")).unwrap(), b"check");
    assert_eq!(
        MasterKey::from_base64("c2hvcnQ=").unwrap_err(),
        CryptoError::MalformedMasterKey
    );
}

#[test]
fn stored_json_opens_in_place_and_erased_keys_read_as_erased() {
    let (_, kept) = key();
    let (_, gone) = key();
    let mut doc = serde_json::json!({
        "a": with_sealer(Arc::new(kept.clone()), || serde_json::to_value(Personal::from("kept")).unwrap()),
        "b": [with_sealer(Arc::new(gone.clone()), || serde_json::to_value(Personal::from("gone")).unwrap())],
        "c": "plain",
    });
    let mut ids = Vec::new();
    sealed_key_ids(&doc, &mut ids);
    ids.sort();
    let mut expected = vec![kept.id(), gone.id()];
    expected.sort();
    assert_eq!(ids, expected);
    let mut set = KeySet::default();
    set.insert(kept);
    open_json(&mut doc, &set);
    assert_eq!(
        doc,
        serde_json::json!({"a": "kept", "b": [ERASED], "c": "plain"})
    );
}

#[test]
fn a_sealed_value_is_one_compact_string_that_decodes_back() {
    let (_, k) = key();
    let stored = with_sealer(Arc::new(k.clone()), || {
        serde_json::to_value(Personal::from("5511999990000")).unwrap()
    });
    let text = stored["$pii"].as_str().unwrap();
    assert!(text.starts_with("1."), "{text}");
    let sealed = Sealed::decode(text).unwrap();
    assert_eq!(sealed.k, k.id());
    assert_eq!(Sealed::decode(&sealed.encode()), Some(sealed));
    assert_eq!(Sealed::decode("2.x.y"), None);
}

#[test]
fn a_tampered_ciphertext_reads_as_erased_not_as_garbage() {
    let (_, k) = key();
    let k = Arc::new(k);
    let stored = with_sealer(k.clone(), || {
        serde_json::to_value(Personal::from("segredo")).unwrap()
    });
    let mut sealed = Sealed::decode(stored["$pii"].as_str().unwrap()).unwrap();
    let last = sealed.body.len() - 1;
    sealed.body[last] ^= 1;
    let tampered = serde_json::json!({ "$pii": sealed.encode() });
    let back: Personal<String> = with_opener(k, || serde_json::from_value(tampered).unwrap());
    assert!(back.is_erased());
}
