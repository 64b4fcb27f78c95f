// Ticket files: sending forms with attachments and downloading them. Both need the bearer
// token, so neither can be a plain <form> post or <a href>.
import { accessToken, ApiError } from "./session.js";

/// What the API accepts per file, checked here too so a person hears it before the upload;
/// the API still judges every file by its bytes.
export const MAX_FILES = 5;
export const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];

/// The first problem with `files` as `{key, vars}` for `t`, or null.
export function checkFiles(files) {
  if (files.length > MAX_FILES) return { key: "tickets.too_many_files", vars: { n: MAX_FILES } };
  for (const f of files) {
    if (f.size > MAX_BYTES) return { key: "tickets.file_too_big", vars: { name: f.name } };
    if (f.type && !TYPES.includes(f.type)) return { key: "tickets.file_bad_type", vars: { name: f.name } };
  }
  return null;
}

async function failure(res) {
  let b = {};
  try {
    b = await res.json();
  } catch {
    // A body limit answers in plain text: the status says enough.
  }
  return new ApiError(res.status, b.code, b.message);
}

/// Posts `form` (multipart) as the signed-in user; JSON answer or null.
export async function postForm(path, form) {
  const token = await accessToken();
  if (!token) throw new ApiError(401, "unauthorized");
  const res = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", Authorization: "Bearer " + token },
    body: form,
  });
  if (!res.ok) throw await failure(res);
  return res.status === 204 ? null : res.json();
}

/// Fetches a file with the bearer token and hands it to the browser as a download;
/// `headers` add to the request (an `Accept` choosing the format, say).
export async function download(url, name, headers = {}) {
  const token = await accessToken();
  if (!token) throw new ApiError(401, "unauthorized");
  const res = await fetch(url, { headers: { ...headers, Authorization: "Bearer " + token } });
  if (!res.ok) throw await failure(res);
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}

/// "1,2 MB" style sizes.
export function size(bytes, lang) {
  const fmt = (n) => n.toLocaleString(lang, { maximumFractionDigits: 1 });
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return fmt(bytes / 1024) + " KB";
  return fmt(bytes / 1024 / 1024) + " MB";
}
