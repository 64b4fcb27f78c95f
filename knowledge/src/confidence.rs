//! How sure the AI may be, from retrieval alone, and whether the customer asks for a person.
//!
//! **Confidence** is the best passage's score. The knowledge base scores passages with a
//! calibrated confidence already (coverage of the question, BM25 strength and margin to the
//! next passage: see [`crate::lexical`]), so the tenant's threshold compares
//! with a number that means "this passage answers the question" and nothing is added here:
//! two overlapping passages that both match are no sign of doubt.

/// The confidence retrieval supports, from the passages' scores best first: the best one,
/// clamped to 0..=1 (0 without passages).
pub fn confidence(scores: &[f32]) -> f64 {
    scores
        .first()
        .map_or(0.0, |&s| f64::from(s).clamp(0.0, 1.0))
}

/// Lower case, letters and digits only, single spaces: how questions are compared (the
/// cache key) and keywords found.
pub fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` contains one of `keywords` as whole words ("atendente", "falar com
/// humano"); "humanidade" does not ask for a human.
pub fn asks_for_a_person(text: &str, keywords: &[String]) -> bool {
    let padded = format!(" {} ", normalize(text));
    keywords
        .iter()
        .map(|k| normalize(k))
        .filter(|k| !k.is_empty())
        .any(|k| padded.contains(&format!(" {k} ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_chunk_means_no_confidence() {
        assert_eq!(confidence(&[]), 0.0);
    }

    #[test]
    fn the_confidence_is_the_best_passage_score_clamped() {
        assert!((confidence(&[0.8, 0.78]) - 0.8).abs() < 1e-6);
        assert!(confidence(&[0.3]) < 0.5);
        assert_eq!(confidence(&[1.5, -1.0]), 1.0);
        assert_eq!(confidence(&[-0.2]), 0.0);
    }

    #[test]
    fn the_customer_asks_for_a_person_by_whole_words() {
        let kw: Vec<String> = ["atendente", "humano", "pessoa", "human"]
            .map(String::from)
            .to_vec();
        assert!(asks_for_a_person("Quero falar com um ATENDENTE!", &kw));
        assert!(asks_for_a_person("talk to a human please", &kw));
        assert!(!asks_for_a_person("a humanidade agradece", &kw));
        assert!(!asks_for_a_person("Qual o horário?", &kw));
    }
}
