//! How sure the AI may be, from retrieval alone, and whether the customer asks for a person.
//!
//! **Confidence.** With `s1` the best chunk's similarity and `s2` the second's (0 when there
//! is none), both in 0..=1:
//!
//! ```text
//! confidence = clamp( 0.8 · s1 + 0.2 · min(1, (s1 − s2) / 0.2), 0, 1 )        (0 without chunks)
//! ```
//!
//! The top similarity dominates: the model may only answer from the context, so an answer is
//! as good as the best passage found. The margin adds up to 0.2 when the best passage stands
//! out (a margin of 0.2 or more); it never subtracts, because neighbouring chunks overlap
//! (20 %) and often both match, which is no sign of doubt.

/// The confidence retrieval supports, from the chunks' similarities best first.
pub fn confidence(scores: &[f32]) -> f64 {
    let Some(&s1) = scores.first() else {
        return 0.0;
    };
    let s1 = f64::from(s1).clamp(0.0, 1.0);
    let s2 = scores.get(1).map_or(0.0, |&s| f64::from(s).clamp(0.0, 1.0));
    let margin = ((s1 - s2).max(0.0) / 0.2).min(1.0);
    (0.8 * s1 + 0.2 * margin).clamp(0.0, 1.0)
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
    fn a_passage_that_stands_out_scores_higher_than_one_among_equals() {
        let alone = confidence(&[0.8, 0.3]);
        let among = confidence(&[0.8, 0.78]);
        assert!((alone - 0.84).abs() < 1e-6, "{alone}");
        assert!((among - 0.66).abs() < 1e-6, "{among}");
        assert!(confidence(&[0.3]) < 0.5);
        assert_eq!(confidence(&[1.5, -1.0]), 1.0);
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
