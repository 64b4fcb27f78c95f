//! Cutting a knowledge text into overlapping chunks (F10).
//!
//! A chunk is about [`CHUNK_CHARS`] characters and repeats the last ~20% of the previous
//! one, so a fact that straddles a cut is still whole in one of them. Cuts fall where a line
//! or a sentence ends when one is near, else between words, and only inside a word when the
//! text has no spaces at all. Lengths count Unicode scalar values, like the 50,000 limit.

/// The length a chunk aims at, in characters.
pub const CHUNK_CHARS: usize = 800;
/// How much of a chunk the next one repeats, in characters (20%).
pub const OVERLAP_CHARS: usize = CHUNK_CHARS / 5;
/// A chunk ends no earlier than this, so a boundary search never makes tiny chunks.
const MIN_CHUNK_CHARS: usize = CHUNK_CHARS * 3 / 4;
/// How far from the ideal overlap start a boundary is looked for, either side.
const OVERLAP_SLACK: usize = OVERLAP_CHARS / 2;

/// How good a place to cut is: higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cut {
    None,
    Word,
    Sentence,
    Line,
}

/// The quality of a cut just before `chars[i]` (`0 < i < len`): a cut always starts the
/// next chunk at a non-space character that follows whitespace.
fn cut_at(chars: &[char], i: usize) -> Cut {
    if chars[i].is_whitespace() || !chars[i - 1].is_whitespace() {
        return Cut::None;
    }
    let mut j = i;
    let mut newline = false;
    while j > 0 && chars[j - 1].is_whitespace() {
        newline |= chars[j - 1] == '\n';
        j -= 1;
    }
    if newline {
        Cut::Line
    } else if j > 0 && matches!(chars[j - 1], '.' | '!' | '?' | '…' | ';' | ':') {
        Cut::Sentence
    } else {
        Cut::Word
    }
}

/// The best cut in `from..=to`; ties go to the position `prefer` ranks lowest.
fn best_cut(
    chars: &[char],
    from: usize,
    to: usize,
    prefer: impl Fn(usize) -> usize,
) -> Option<usize> {
    (from.max(1)..=to.min(chars.len() - 1))
        .map(|i| (cut_at(chars, i), i))
        .filter(|(cut, _)| *cut != Cut::None)
        .max_by(|(a, i), (b, j)| a.cmp(b).then(prefer(*j).cmp(&prefer(*i))))
        .map(|(_, i)| i)
}

/// `text` cut into chunks, trimmed, in order; none for a blank text.
pub fn chunk(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        if chars.len() - start <= CHUNK_CHARS {
            push(&mut chunks, &chars[start..]);
            break;
        }
        let hard_end = start + CHUNK_CHARS;
        // The latest best boundary, so chunks stay close to the target length.
        let end = best_cut(&chars, start + MIN_CHUNK_CHARS, hard_end, |i| hard_end - i)
            .unwrap_or(hard_end);
        push(&mut chunks, &chars[start..end]);
        let ideal = end - OVERLAP_CHARS;
        let next = best_cut(&chars, ideal - OVERLAP_SLACK, ideal + OVERLAP_SLACK, |i| {
            i.abs_diff(ideal)
        })
        .unwrap_or(ideal);
        // Always move forward, even if the boundary search came back before `start`.
        start = next.max(start + 1);
    }
    chunks
}

fn push(chunks: &mut Vec<String>, chars: &[char]) {
    let text: String = chars.iter().collect();
    let text = text.trim();
    if !text.is_empty() {
        chunks.push(text.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(s: &str) -> usize {
        s.chars().count()
    }

    /// The overlap of `a`'s end with `b`'s start, in characters.
    fn overlap(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        (1..=a.len().min(b.len()))
            .rev()
            .find(|n| a[a.len() - n..] == b[..*n])
            .unwrap_or(0)
    }

    fn sentences(n: usize) -> String {
        (0..n)
            .map(|i| format!("Esta é a frase número {i}, que fala de entregas e horários."))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_blank_text_has_no_chunks() {
        assert!(chunk("").is_empty());
        assert!(chunk(" \n\t ").is_empty());
    }

    #[test]
    fn a_short_text_is_one_chunk_trimmed() {
        assert_eq!(chunk("  Abrimos às 8h.\n"), vec!["Abrimos às 8h."]);
    }

    #[test]
    fn chunks_are_about_800_characters_and_end_at_a_sentence() {
        let text = sentences(60);
        let chunks = chunk(&text);
        assert!(chunks.len() > 3, "{}", chunks.len());
        for c in &chunks[..chunks.len() - 1] {
            assert!(
                (MIN_CHUNK_CHARS - 1..=CHUNK_CHARS).contains(&len(c)),
                "{}",
                len(c)
            );
            assert!(c.ends_with('.'), "{c:?}");
            assert!(c.starts_with("Esta"), "{c:?}");
        }
    }

    #[test]
    fn consecutive_chunks_overlap_by_about_a_fifth() {
        let text = sentences(60);
        let chunks = chunk(&text);
        for pair in chunks.windows(2) {
            let o = overlap(&pair[0], &pair[1]);
            assert!(
                (OVERLAP_CHARS - OVERLAP_SLACK - 1..=OVERLAP_CHARS + OVERLAP_SLACK).contains(&o),
                "overlap {o}"
            );
        }
    }

    #[test]
    fn every_word_of_the_text_is_in_some_chunk_in_order() {
        let text = sentences(40);
        let chunks = chunk(&text);
        let joined = chunks.join(" ");
        for word in text.split_whitespace() {
            assert!(joined.contains(word), "{word} lost");
        }
        assert!(chunks[0].starts_with("Esta é a frase número 0,"));
        assert!(chunks
            .last()
            .unwrap()
            .ends_with("número 39, que fala de entregas e horários."));
    }

    #[test]
    fn a_line_break_is_preferred_over_a_space() {
        let first = "palavra ".repeat(80); // 640 characters, no sentence end
        let text = format!("{first}\n{}", "outra ".repeat(100));
        let chunks = chunk(&text);
        assert_eq!(chunks[0], first.trim());
    }

    #[test]
    fn a_text_without_boundaries_is_cut_every_800_characters_with_overlap() {
        let text = "x".repeat(2_000);
        let chunks = chunk(&text);
        let lens: Vec<usize> = chunks.iter().map(|c| len(c)).collect();
        assert_eq!(lens, vec![800, 800, 720]);
        // 0..800, 640..1440, 1280..2000: 20% of each chunk is repeated.
        assert_eq!(
            chunks.iter().map(|c| len(c)).sum::<usize>(),
            2_000 + 2 * 160
        );
    }

    #[test]
    fn multibyte_characters_count_as_one_and_are_never_split() {
        let text = "ção🙂".repeat(700); // 2,800 characters, 8,400 bytes
        let chunks = chunk(&text);
        assert!(chunks.iter().all(|c| len(c) <= CHUNK_CHARS));
        assert_eq!(len(&chunks[0]), 800);
        let emoji = format!("{} fim.", "🙂 ".repeat(500));
        for c in chunk(&emoji) {
            assert!(c
                .chars()
                .all(|ch| ch == '🙂' || ch == ' ' || "fim.".contains(ch)));
        }
    }
}
