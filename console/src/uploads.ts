// Attaching files to an escalation. Files dropped onto the new-request form wait here until the
// escalation exists; its page then attaches them and shows how each went.

import { call, isFinal, newIdempotencyKey, uploadEscalationAttachment, type Attachment, type Outcome } from "./api";

/** Each file's `Idempotency-Key`, kept until the server's last word on it. */
const keys = new WeakMap<File, string>();

/** Uploads one file under its own name; attaching the same file again after a lost answer replays. */
export async function attach(escalationId: string, file: File): Promise<Outcome<Attachment>> {
  const key = keys.get(file) ?? newIdempotencyKey();
  keys.set(file, key);
  const answer = await call(
    uploadEscalationAttachment({
      path: { id: escalationId },
      query: { filename: file.name },
      body: file,
      headers: { "Idempotency-Key": key },
    }),
  );
  if (answer.ok || isFinal(answer.failure)) keys.delete(file);
  return answer;
}

const pending = new Map<string, File[]>();

export function queueUploads(escalationId: string, files: File[]): void {
  if (files.length > 0) pending.set(escalationId, files);
}

/** The files waiting for this escalation, handed over once. */
export function takeUploads(escalationId: string): File[] {
  const files = pending.get(escalationId) ?? [];
  pending.delete(escalationId);
  return files;
}
