//! The OpenAI-compatible embeddings client against a faked endpoint, with the request shape
//! OpenAI documents (`POST /v1/embeddings {model, input: [..]}`, bearer key).

use integrations::embeddings::{OpenAiEmbedder, OpenAiEmbeddings};
use knowledge::embed::Embedder;
use knowledge::KnowledgeError;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn embedder(server: &MockServer) -> OpenAiEmbedder {
    OpenAiEmbedder::new(&OpenAiEmbeddings {
        api_key: "sk-test".into(),
        base_url: format!("{}/v1", server.uri()),
        model: "text-embedding-3-small".into(),
    })
}

#[tokio::test]
async fn texts_are_embedded_in_one_request_and_returned_in_input_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .and(header("authorization", "Bearer sk-test"))
        .and(body_json(json!({
            "model": "text-embedding-3-small",
            "input": ["Abrimos às 8h.", "Entregamos no bairro."],
        })))
        // Out of order on purpose: `index` says which input each one is.
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 1, "embedding": [0.0, 1.0, 0.0]},
                {"object": "embedding", "index": 0, "embedding": [1.0, 0.0, 0.0]},
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 9, "total_tokens": 9},
        })))
        .expect(1)
        .mount(&server)
        .await;
    let vectors = embedder(&server)
        .embed(&["Abrimos às 8h.".into(), "Entregamos no bairro.".into()])
        .await
        .unwrap();
    assert_eq!(vectors, vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]]);
    assert_eq!(embedder(&server).id(), "openai/text-embedding-3-small");
}

#[tokio::test]
async fn a_refused_key_is_an_embedding_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                      "param": null, "code": "invalid_api_key"}
        })))
        .mount(&server)
        .await;
    let err = embedder(&server).embed(&["oi".into()]).await.unwrap_err();
    assert!(matches!(err, KnowledgeError::Embedding(_)), "{err:?}");
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
}

#[tokio::test]
async fn a_response_missing_an_embedding_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [1.0]}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        })))
        .mount(&server)
        .await;
    let err = embedder(&server)
        .embed(&["a".into(), "b".into()])
        .await
        .unwrap_err();
    assert!(matches!(err, KnowledgeError::Embedding(_)), "{err:?}");
}
