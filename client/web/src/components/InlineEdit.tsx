import { useEffect, useState, type FormEvent } from 'react';

/**
 * A one-line editor for a short personal setting (a name in a group, a remark): Save stores the trimmed text,
 * an empty box clears the setting. The box follows `value` when it changes elsewhere (another tab, an event).
 */
export function InlineEdit({
  label,
  value,
  maxLength,
  onSave,
  testId,
}: {
  label: string;
  value: string | null | undefined;
  maxLength: number;
  /** Receives null to clear. */
  onSave: (value: string | null) => unknown;
  /** Prefix of the test ids: `<testId>-input` and `<testId>-save`. */
  testId: string;
}) {
  const [text, setText] = useState(value ?? '');
  useEffect(() => setText(value ?? ''), [value]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void onSave(text.trim() || null);
  };
  return (
    <form className="row inline-edit" onSubmit={submit}>
      <label className="title">
        <small>{label}</small>
        <input value={text} onChange={(e) => setText(e.target.value)} maxLength={maxLength} placeholder={label} data-testid={`${testId}-input`} />
      </label>
      <button type="submit" disabled={text.trim() === (value ?? '')} data-testid={`${testId}-save`}>
        Save
      </button>
    </form>
  );
}
