import { useEffect } from 'react';

/** The full image over the page; a click anywhere or Escape closes it. */
export function ImageViewer({ url, name, onClose }: { url: string; name: string; onClose: () => void }) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="viewer" role="dialog" aria-label={name} onClick={onClose} data-testid="image-viewer">
      <img src={url} alt={name} data-testid="image-full" />
      <a href={url} download={name} target="_blank" rel="noreferrer" onClick={(event) => event.stopPropagation()}>
        Download {name}
      </a>
    </div>
  );
}
