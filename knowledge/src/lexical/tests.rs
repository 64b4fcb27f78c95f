use super::*;

const PADARIA: &str = include_str!("../../tests/fixtures/padaria.txt");

fn best(index: &LexicalIndex, question: &str) -> (String, f32) {
    let hits = index.search(question, 3);
    let top = hits.first().expect("a passage");
    (index.passages()[top.passage].text.clone(), top.confidence)
}

#[test]
fn paragraphs_are_passages_under_their_section_heading() {
    let p = passages(PADARIA);
    let hours = p.iter().find(|p| p.text.contains("Sábado: 6h")).unwrap();
    assert_eq!(hours.heading.as_deref(), Some("Horários"));
    assert!(hours.text.contains("Domingo e feriados"), "{}", hours.text);
    assert!(p.iter().all(|p| p.text.chars().count() <= PASSAGE_CHARS));
    assert!(!p.iter().any(|p| p.text.contains("==")));
}

#[test]
fn a_paraphrased_question_finds_its_passage_confidently() {
    let index = LexicalIndex::build(PADARIA);
    let (text, confidence) = best(&index, "vcs abrem domingo?");
    assert!(text.contains("Domingo e feriados"), "{text}");
    assert!(confidence >= 0.5, "{confidence}");
    let (text, confidence) = best(&index, "qnto custa o pao de queijo?");
    assert!(text.contains("R$ 2,50"), "{text}");
    assert!(confidence >= 0.5, "{confidence}");
}

#[test]
fn a_typo_still_finds_the_word() {
    let index = LexicalIndex::build(PADARIA);
    let (text, _) = best(&index, "tem coxinah?");
    assert!(text.contains("coxinha"), "{text}");
}

#[test]
fn an_english_question_meets_portuguese_knowledge_through_the_lexicon() {
    let index = LexicalIndex::build(PADARIA);
    let (text, confidence) = best(&index, "Do you take credit cards?");
    assert!(text.contains("cartões de crédito"), "{text}");
    assert!(confidence >= 0.5, "{confidence}");
}

#[test]
fn a_question_about_what_the_knowledge_never_mentions_has_low_confidence() {
    let index = LexicalIndex::build(PADARIA);
    for q in [
        "vcs vendem pizza congelada?",
        "tem vaga de emprego pra padeiro?",
        "fazem bolo de casamento com topo personalizado?",
    ] {
        let top = index.search(q, 3).first().map_or(0.0, |h| h.confidence);
        assert!(top < 0.5, "{q}: {top}");
    }
}

#[test]
fn confidence_grows_with_coverage_strength_margin_and_words_matched() {
    let base = Features {
        coverage: 0.6,
        strength: 0.5,
        margin: 0.2,
        matched: 1.0,
        unknown: 1.0,
    };
    let more = |f: Features| calibrate(f) > calibrate(base);
    assert!(more(Features {
        coverage: 0.9,
        ..base
    }));
    assert!(more(Features {
        strength: 0.9,
        ..base
    }));
    assert!(more(Features {
        margin: 0.8,
        ..base
    }));
    assert!(more(Features {
        matched: 2.0,
        ..base
    }));
    let all = Features {
        coverage: 1.0,
        strength: 1.0,
        margin: 1.0,
        matched: 3.0,
        unknown: 0.0,
    };
    assert!(calibrate(all) > 0.9);
    assert!(calibrate(Features::default()) < 0.01);
}

#[test]
fn fusion_ranks_an_item_both_rankings_like_above_one_only_one_likes() {
    let fused = reciprocal_rank_fusion(&[vec!["a", "b", "c"], vec!["b", "c", "d"]]);
    let order: Vec<&str> = fused.iter().map(|(t, _)| *t).collect();
    assert_eq!(order, ["b", "c", "a", "d"]);
    assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
}

#[test]
fn a_term_hashes_to_the_same_index_in_every_build() {
    // 64-bit FNV-1a of "pix", its halves folded: indices stored in Qdrant must keep meaning.
    assert_eq!(term_index("pix"), 0x21f0_88a7);
    assert_ne!(term_index("pix"), term_index("pao"));
}

#[test]
fn a_chunks_sparse_terms_are_its_stems_and_concepts_with_saturated_frequencies() {
    let index = LexicalIndex::build(PADARIA);
    let terms = index.document_terms("Entregamos pães. Entrega grátis. Entregas no bairro.");
    let weight = |term: &str| {
        let i = term_index(term);
        terms
            .indices
            .iter()
            .position(|x| *x == i)
            .map(|p| terms.values[p])
    };
    let entreg = index.language().stem("entregas");
    // Three times: 3·2.2/(3+1.2), less than three.
    let three = weight(&entreg).unwrap();
    assert!((three - 3.0 * 2.2 / 4.2).abs() < 1e-5, "{three}");
    assert!((weight(&index.language().stem("bairro")).unwrap() - 1.0).abs() < 1e-5);
    assert!(weight("#delivery").is_some(), "{terms:?}");
    assert!(terms.indices.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_questions_sparse_terms_are_what_it_matches_through_here() {
    let index = LexicalIndex::build(PADARIA);
    let has = |terms: &SparseTerms, term: &str| terms.indices.contains(&term_index(term));
    // A typo is corrected against the knowledge's words; a word it never uses is left out.
    let terms = index.query_terms("vcs fazem entrga de helicoptero?");
    assert!(has(&terms, &index.language().stem("entrega")), "{terms:?}");
    assert!(!has(&terms, &index.language().stem("helicoptero")));
    assert!(index.query_terms("helicoptero").is_empty());
}
