// Files for a new request: dropped onto the zone or chosen with the file picker (the keyboard's
// way in), listed with a button to take each back out.

import { useState } from "preact/hooks";

import { useSession } from "../ui";

export function Dropzone(props: { files: File[]; onChange: (files: File[]) => void }) {
  const { t } = useSession();
  const [over, setOver] = useState(false);
  const add = (list: FileList | null | undefined) => {
    if (list && list.length > 0) props.onChange([...props.files, ...Array.from(list)]);
  };
  return (
    <fieldset
      class={over ? "dropzone over" : "dropzone"}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        event.preventDefault();
        setOver(false);
        add(event.dataTransfer?.files);
      }}
    >
      <legend>{t.files}</legend>
      <label for="f-files">{t.dropFiles}</label>
      <input id="f-files" type="file" multiple onChange={(event) => {
          add(event.currentTarget.files);
          event.currentTarget.value = "";
        }}
      />
      <p class="hint">{t.filesAttachedAfter}</p>
      {props.files.length > 0 && (
        <ul class="files">
          {props.files.map((file, index) => (
            <li key={`${file.name}-${index}`}>
              {file.name} ({t.bytes(file.size)}){" "}
              <button
                type="button"
                aria-label={t.remove(file.name)}
                onClick={() => props.onChange(props.files.filter((_, i) => i !== index))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
