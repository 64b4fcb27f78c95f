//! Extractive answers: the one to three sentences of the passages found that answer the
//! question, quoted as written, never rephrased.
//!
//! Each sentence (or line: list items are sentences) of the best passages is matched with
//! the question's words as retrieval matches them (stems of either language, a typo away,
//! a shared concept). The sentence matching most is the answer; up to two more join it,
//! in the knowledge's order, when each matches a question word the chosen ones do not
//! ("the price" beside "the flavour"). A list item keeps the line that introduces its list
//! ("Taxa de entrega:"), without which it reads as a fragment.

use super::analysis::{self, query_words, Language, QueryWord};
use super::lexicon::concepts_of;

/// The most sentences an answer has.
pub const MAX_SENTENCES: usize = 3;

/// `text` cut into sentences and lines, trimmed, none empty. A period after a short
/// capitalised word ("Av.", "Dr.") does not end a sentence; one inside a number does not
/// either, since a sentence ends only before whitespace.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut start = 0;
        for i in 0..chars.len() {
            let ends = matches!(chars[i], '.' | '!' | '?' | '…')
                && chars.get(i + 1).is_some_and(|c| c.is_whitespace())
                && chars.get(i + 2).is_some_and(|c| {
                    c.is_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '"' | '(')
                });
            if ends && !abbreviation_before(&chars[start..i]) {
                push(&mut out, &chars[start..=i]);
                start = i + 1;
            }
        }
        push(&mut out, &chars[start..]);
    }
    out
}

fn abbreviation_before(chars: &[char]) -> bool {
    let word: String = chars
        .iter()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect();
    let n = word.chars().count();
    (1..=3).contains(&n) && word.chars().last().is_some_and(char::is_uppercase)
}

fn push(out: &mut Vec<String>, chars: &[char]) {
    let s: String = chars.iter().collect();
    let s = s.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
}

/// The question words (by position) `sentence` matches, each with how much it counts.
fn matches(sentence: &str, words: &[QueryWord]) -> Vec<(usize, f32)> {
    let mut stems = Vec::new();
    let mut concepts = Vec::new();
    let folded = analysis::content_words(sentence);
    for w in &folded {
        for lang in [Language::Portuguese, Language::English] {
            let s = lang.stem(w);
            concepts.extend(concepts_of(w, &s));
            stems.push(s);
        }
    }
    words
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            if q.stems.iter().any(|s| stems.contains(s)) {
                Some((i, 1.0))
            } else if q.word.chars().count() >= 5
                && folded.iter().any(|f| {
                    f.len().abs_diff(q.word.len()) <= 2
                        && strsim::damerau_levenshtein(f, &q.word) <= 1
                })
            {
                Some((i, 0.8))
            } else if q.concepts.iter().any(|c| concepts.contains(c)) {
                Some((i, 0.5))
            } else {
                None
            }
        })
        .collect()
}

/// A sentence of the passages: its passage, its place in it, its text, and the question
/// words it matches.
struct Candidate(usize, usize, String, Vec<(usize, f32)>);

/// The answer to `question` from `passages` (best first): at most [`MAX_SENTENCES`]
/// sentences; the best passage's first sentence when no sentence matches anything.
pub fn extract(question: &str, passages: &[&str]) -> String {
    let words = query_words(question);
    let mut candidates: Vec<Candidate> = Vec::new();
    for (p, passage) in passages.iter().enumerate() {
        for (s, sentence) in sentences(passage).into_iter().enumerate() {
            let m = matches(&sentence, &words);
            candidates.push(Candidate(p, s, sentence, m));
        }
    }
    // A question in the knowledge (an FAQ's "Tem aula online?") is worth a little less
    // than a sentence saying the same: the answer is what follows it.
    let total = |c: &Candidate| {
        let sum = c.3.iter().map(|(_, w)| w).sum::<f32>();
        if c.2.ends_with('?') {
            sum * 0.9
        } else {
            sum
        }
    };
    let Some(best) = candidates
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| {
            // Ties go to the better passage, then the earlier sentence.
            total(a).total_cmp(&total(b)).then(j.cmp(i))
        })
        .map(|(i, _)| i)
    else {
        return String::new();
    };
    let mut chosen = vec![best];
    let mut covered: Vec<usize> = candidates[best].3.iter().map(|(w, _)| *w).collect();
    while chosen.len() < MAX_SENTENCES {
        let next = candidates
            .iter()
            .enumerate()
            .filter(|(i, _)| !chosen.contains(i))
            // Only the best sentence's passage, or the next one, may complete it.
            .filter(|(_, c)| c.0 <= candidates[best].0 + 1)
            .map(|(i, c)| {
                let new: f32 =
                    c.3.iter()
                        .filter(|(w, _)| !covered.contains(w))
                        .map(|(_, s)| s)
                        .sum();
                (i, new)
            })
            .filter(|(_, new)| *new >= 0.8)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let Some((i, _)) = next else { break };
        covered.extend(candidates[i].3.iter().map(|(w, _)| *w));
        chosen.push(i);
    }
    // A list item keeps the line introducing its list; a question of the knowledge, the
    // sentence answering it.
    let mut with_intro = chosen.clone();
    for &i in &chosen {
        if candidates[i].2.ends_with('?') {
            // Its answer: up to two sentences after it, until the next question.
            for answer in (i + 1..candidates.len()).take(2) {
                let c = &candidates[answer];
                if c.0 != candidates[i].0 || c.2.ends_with('?') {
                    break;
                }
                if !with_intro.contains(&answer) {
                    with_intro.push(answer);
                }
            }
        }
        let (p, s) = (candidates[i].0, candidates[i].1);
        if is_list_item(&candidates[i].2) {
            if let Some(intro) = candidates
                .iter()
                .position(|c| c.0 == p && c.1 < s && !is_list_item(&c.2) && c.2.ends_with(':'))
            {
                if !with_intro.contains(&intro) {
                    with_intro.push(intro);
                }
            }
        }
    }
    with_intro.sort_by_key(|&i| (candidates[i].0, candidates[i].1));
    with_intro
        .iter()
        .map(|&i| {
            candidates[i]
                .2
                .trim_start_matches(['-', '•', '*', ' '])
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_list_item(sentence: &str) -> bool {
    sentence.starts_with(['-', '•', '*'])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURS: &str = "Funcionamos de terça a domingo.\n- Terça a sexta: 9h às 18h\n- Sábado e domingo: 8h às 14h\nNão abrimos às segundas.";

    #[test]
    fn sentences_end_at_punctuation_and_lines_but_not_at_abbreviations_or_numbers() {
        assert_eq!(
            sentences("Fica na Av. Brasil, 12. Custa R$ 10.50 a unidade! Ok?\nNova linha"),
            [
                "Fica na Av. Brasil, 12.",
                "Custa R$ 10.50 a unidade!",
                "Ok?",
                "Nova linha"
            ]
        );
    }

    #[test]
    fn the_answer_is_the_sentence_that_matches_not_the_whole_passage() {
        let answer = extract("vcs abrem no sabado?", &[HOURS]);
        assert_eq!(answer, "Sábado e domingo: 8h às 14h");
    }

    #[test]
    fn a_second_sentence_joins_when_it_answers_another_part_of_the_question() {
        let passage = "Bolo de cenoura com cobertura de chocolate.\nFatia: R$ 12,00. Bolo inteiro: R$ 80,00.\nFeito todos os dias.";
        let answer = extract("quanto custa o bolo de cenoura?", &[passage]);
        assert!(answer.starts_with("Bolo de cenoura"), "{answer}");
        assert!(answer.contains("R$"), "{answer}");
        assert!(!answer.contains("todos os dias"), "{answer}");
    }

    #[test]
    fn a_list_item_keeps_the_line_that_introduces_it() {
        let passage =
            "Entregamos com motoboy. Taxa de entrega:\n- Centro: grátis\n- Jardim América: R$ 7,00";
        let answer = extract("qual a taxa pro jardim america?", &[passage]);
        assert_eq!(answer, "Taxa de entrega: Jardim América: R$ 7,00");
    }

    #[test]
    fn a_question_in_the_knowledge_brings_its_answer() {
        let faq = "Vocês têm estacionamento?\nSim, 20 vagas gratuitas na rua de trás.\nAceitam cartão?\nSim, todos.";
        let answer = extract("tem estacionamento?", &[faq]);
        assert_eq!(
            answer,
            "Vocês têm estacionamento? Sim, 20 vagas gratuitas na rua de trás."
        );
    }

    #[test]
    fn nothing_matching_still_quotes_the_best_passage_first_sentence() {
        assert_eq!(
            extract("xyz", &["Primeira frase. Segunda frase."]),
            "Primeira frase."
        );
        assert_eq!(extract("xyz", &[]), "");
    }
}
