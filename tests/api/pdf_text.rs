//! The text a PDF shows, read back from its uncompressed content streams: every string
//! operand, literal (`(…)`, escapes and octal codes undone) or hexadecimal (`<…>`), in the
//! WinAnsi encoding, taken as Latin-1 (which it matches for every letter Portuguese uses),
//! one per line. Enough to find the figures in the reports this product writes.

pub fn pdf_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => {
                let mut depth = 1;
                i += 1;
                while i < bytes.len() {
                    let b = bytes[i];
                    i += 1;
                    match b {
                        b'\\' => {
                            let e = bytes[i];
                            i += 1;
                            match e {
                                b'n' => out.push('\n'),
                                b'r' => out.push('\r'),
                                b't' => out.push('\t'),
                                b'b' => out.push('\u{8}'),
                                b'f' => out.push('\u{c}'),
                                b'0'..=b'7' => {
                                    let mut code = u32::from(e - b'0');
                                    for _ in 0..2 {
                                        match bytes.get(i) {
                                            Some(d @ b'0'..=b'7') => {
                                                code = code * 8 + u32::from(d - b'0');
                                                i += 1;
                                            }
                                            _ => break,
                                        }
                                    }
                                    out.push(char::from_u32(code & 0xff).unwrap());
                                }
                                other => out.push(char::from(other)),
                            }
                        }
                        b'(' => {
                            depth += 1;
                            out.push('(');
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            out.push(')');
                        }
                        other => out.push(char::from(other)),
                    }
                }
                out.push('\n');
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => i += 2,
            b'<' => {
                let end = i + bytes[i..].iter().position(|&b| b == b'>').unwrap();
                let hex: Vec<u8> = bytes[i + 1..end]
                    .iter()
                    .copied()
                    .filter(u8::is_ascii_hexdigit)
                    .collect();
                for pair in hex.chunks(2) {
                    let text = std::str::from_utf8(pair).unwrap();
                    let byte = u8::from_str_radix(&format!("{text:0<2}"), 16).unwrap();
                    out.push(char::from(byte));
                }
                out.push('\n');
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}
