"""Built-in prompts (F-MEDIA-2): speech by espeak-ng per language, hold music and a beep.

Nothing here ships audio: each built-in is generated on first use and kept as a
WAV file under the prompt store's ``builtin/`` folder. Speech files carry a hash
of their text and voice in the name, so changing a sentence regenerates it.
Hold music is synthesised into a circular buffer, so the loop has no seam.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from media.audio import RATE, AudioError, Float32Array, decode, normalize

MUSIC_VERSION = 1  # bump when the hold music or beep synthesis changes
LEVEL_DBFS = -20.0  # RMS level of every built-in

VOICES = {"en": "en-gb", "it": "it", "pl": "pl", "fr": "fr-fr", "es": "es"}

SPEECH: dict[str, dict[str, str]] = {
    "welcome": {
        "en": "Welcome. Please dial the extension number, or stay on the line.",
        "it": "Benvenuti. Digitate il numero dell'interno, oppure restate in linea.",
        "pl": "Witamy. Proszę wybrać numer wewnętrzny lub pozostać na linii.",
        "fr": "Bienvenue. Composez le numéro du poste, ou restez en ligne.",
        "es": "Bienvenido. Marque el número de la extensión, o permanezca en línea.",
    },
    "recording_notice": {
        "en": "This call is recorded.",
        "it": "Questa chiamata è registrata.",
        "pl": "Ta rozmowa jest nagrywana.",
        "fr": "Cet appel est enregistré.",
        "es": "Esta llamada está siendo grabada.",
    },
    "invalid_extension": {
        "en": "The extension you dialled does not exist. Please try again.",
        "it": "L'interno selezionato non esiste. Riprovate.",
        "pl": "Wybrany numer wewnętrzny nie istnieje. Proszę spróbować ponownie.",
        "fr": "Le poste demandé n'existe pas. Veuillez réessayer.",
        "es": "La extensión marcada no existe. Inténtelo de nuevo.",
    },
    "voicemail_greeting": {
        "en": "Nobody can take your call right now. Please leave a message after the tone.",
        "it": "Al momento nessuno può rispondere. Lasciate un messaggio dopo il segnale.",
        "pl": "Nikt nie może teraz odebrać. Proszę zostawić wiadomość po sygnale.",
        "fr": "Personne ne peut répondre pour le moment. Laissez un message après le bip.",
        "es": "Nadie puede atender su llamada ahora. Deje un mensaje después de la señal.",
    },
    "please_hold": {
        "en": "Please hold. Your call will be answered shortly.",
        "it": "Restate in linea. Risponderemo al più presto.",
        "pl": "Proszę czekać. Rozmowa zostanie wkrótce odebrana.",
        "fr": "Veuillez patienter. Votre appel va être pris en charge.",
        "es": "Por favor, espere. Su llamada será atendida en breve.",
    },
    "rate_call": {
        "en": "Please rate this call from one to five on your keypad.",
        "it": "Valutate questa chiamata da uno a cinque sulla tastiera.",
        "pl": "Proszę ocenić rozmowę od jednego do pięciu na klawiaturze.",
        "fr": "Notez cet appel de un à cinq sur votre clavier.",
        "es": "Valore esta llamada del uno al cinco con el teclado.",
    },
    "closed": {
        "en": "Our office is closed. Please call again during opening hours.",
        "it": "I nostri uffici sono chiusi. Richiamate durante l'orario di apertura.",
        "pl": "Biuro jest teraz zamknięte. Prosimy zadzwonić w godzinach pracy.",
        "fr": "Nos bureaux sont fermés. Veuillez rappeler pendant les heures d'ouverture.",
        "es": "Nuestra oficina está cerrada. Llame de nuevo en horario de atención.",
    },
    # Confirmations of the status feature codes an employee dials (F-ROUTE-5)
    "status_working": {
        "en": "You are signed in. Queue calls will ring your phone.",
        "it": "Siete collegati. Le chiamate in coda squilleranno sul vostro telefono.",
        "pl": "Jesteś zalogowany. Połączenia z kolejki będą dzwonić na Twoim telefonie.",
        "fr": "Vous êtes connecté. Les appels en file sonneront sur votre poste.",
        "es": "Ha iniciado sesión. Las llamadas en cola sonarán en su teléfono.",
    },
    "status_break": {
        "en": "You are on a break. Queue calls will not ring your phone.",
        "it": "Siete in pausa. Le chiamate in coda non squilleranno sul vostro telefono.",
        "pl": "Masz przerwę. Połączenia z kolejki nie będą dzwonić na Twoim telefonie.",
        "fr": "Vous êtes en pause. Les appels en file ne sonneront pas sur votre poste.",
        "es": "Está en pausa. Las llamadas en cola no sonarán en su teléfono.",
    },
    "status_not_started": {
        "en": "You are signed off. Queue calls will not ring your phone.",
        "it": "Siete scollegati. Le chiamate in coda non squilleranno sul vostro telefono.",
        "pl": "Jesteś wylogowany. Połączenia z kolejki nie będą dzwonić na Twoim telefonie.",
        "fr": "Vous êtes déconnecté. Les appels en file ne sonneront pas sur votre poste.",
        "es": "Ha cerrado sesión. Las llamadas en cola no sonarán en su teléfono.",
    },
    "thank_you": {"en": "Thank you.", "it": "Grazie.", "pl": "Dziękujemy.", "fr": "Merci.",
                  "es": "Gracias."},
    "goodbye": {"en": "Goodbye.", "it": "Arrivederci.", "pl": "Do widzenia.",
                "fr": "Au revoir.", "es": "Adiós."},
}


def names() -> frozenset[str]:
    """Every built-in prompt name."""
    return frozenset(SPEECH) | frozenset(SOUNDS)


def is_language_independent(name: str) -> bool:
    return name in SOUNDS


def builtin_path(directory: Path, name: str, language: str) -> Path:
    """Where the generated file of a built-in lives (it may not exist yet)."""
    if name in SOUNDS:
        return directory / f"{name}-v{MUSIC_VERSION}.wav"
    text = SPEECH[name][language]
    digest = hashlib.sha256(f"{VOICES[language]}\0{text}".encode()).hexdigest()[:10]
    return directory / language / f"{name}-{digest}.wav"


def ensure(directory: Path, name: str, language: str) -> Path:
    """The WAV file of a built-in, generated now if it is not there yet.

    Raises ``KeyError`` for an unknown name or language and :class:`AudioError`
    (reason ``espeak_missing`` / ``espeak_failed``) when speech cannot be made."""
    path = builtin_path(directory, name, language)
    if path.exists():
        return path
    if name in SOUNDS:
        pcm, rate = SOUNDS[name](), RATE
    else:
        pcm, rate = speak(SPEECH[name][language], language)
    _write_wav_atomically(path, normalize(pcm, LEVEL_DBFS), rate)
    return path


def _write_wav_atomically(path: Path, pcm: Float32Array, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            sf.write(f, pcm, rate, format="WAV", subtype="PCM_16")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- speech -----------------------------------------------------------------------------

def speak(text: str, language: str) -> tuple[Float32Array, int]:
    """Synthesise ``text`` with espeak-ng in ``language``: (mono float32, rate)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise AudioError("espeak_missing", "built-in speech prompts need espeak-ng, which is "
                         "not installed (Debian package espeak-ng); upload an MP3 instead")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        done = subprocess.run([exe, "-v", VOICES[language], "-w", str(out), "--", text],
                              capture_output=True, timeout=60, check=False)
        if done.returncode != 0 or not out.exists():
            reason = done.stderr.decode(errors="replace").strip()
            raise AudioError("espeak_failed", f"espeak-ng failed for {language!r}: {reason}")
        decoded = decode(out.read_bytes())
    return decoded.pcm, decoded.rate


# -- hold music and beep -------------------------------------------------------------------

BPM = 96.0
BEAT = 60.0 / BPM
# I-vi-IV-V in C major, one bar of four beats each: (bass, arpeggio notes) as MIDI numbers
PROGRESSION = (
    (48, (60, 64, 67, 72)),
    (45, (57, 60, 64, 69)),
    (41, (57, 60, 65, 69)),
    (43, (59, 62, 67, 71)),
)
ARPEGGIO_ORDER = (0, 1, 2, 3, 2, 1, 2, 1)  # eighth notes over one bar
MELODY = ((76, 2.0), (74, 1.0), (72, 1.0), (72, 2.0), (69, 2.0),
          (69, 1.5), (72, 0.5), (77, 2.0), (74, 3.0), (71, 1.0))  # (note, beats)


def _hz(midi: int) -> float:
    return float(440.0 * 2.0 ** ((midi - 69) / 12.0))


def _tone(freq: float, seconds: float, rate: int, decay: float,
          harmonics: tuple[float, ...]) -> Float32Array:
    """A plucked tone: a few harmonics, 8 ms attack, exponential decay, 30 ms release."""
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(harmonics))
    env = np.minimum(1.0, t / 0.008) * np.exp(-t / decay)
    release = np.clip((seconds - t) / 0.03, 0.0, 1.0)
    return np.asarray(wave * env * release, dtype=np.float32)


def _add_circular(loop: Float32Array, start: float, note: Float32Array, rate: int) -> None:
    """Mix ``note`` into ``loop`` from ``start`` seconds, wrapping past the end."""
    index = (round(start * rate) + np.arange(note.shape[0])) % loop.shape[0]
    np.add.at(loop, index, note)


def hold_music(rate: int = RATE) -> Float32Array:
    """Four bars (10 s at 96 bpm) of arpeggiated I-vi-IV-V with bass and melody.

    Every note is mixed into a circular buffer whose length is a whole number of
    20 ms frames, so playing the loop end to end is one continuous piece."""
    bar = 4 * BEAT
    length = round(len(PROGRESSION) * bar * rate / 160) * 160
    loop = np.zeros(length, dtype=np.float32)
    for i, (bass, chord) in enumerate(PROGRESSION):
        _add_circular(loop, i * bar, _tone(_hz(bass), bar, rate, 1.2, (0.6, 0.5, 0.3)), rate)
        for j, step in enumerate(ARPEGGIO_ORDER):
            note = _tone(_hz(chord[step]), 2 * BEAT, rate, 0.45, (0.35, 0.12, 0.05))
            _add_circular(loop, i * bar + j * BEAT / 2, note, rate)
    at = 0.0
    for midi, beats in MELODY:
        tone = _tone(_hz(midi), beats * BEAT + 0.4, rate, 0.9, (0.5, 0.2, 0.08))
        _add_circular(loop, at, tone, rate)
        at += beats * BEAT
    return loop


def beep(freq: float = 1000.0, seconds: float = 0.4, rate: int = RATE) -> Float32Array:
    """A sine tone with 10 ms raised-cosine ramps (the voicemail tone)."""
    t = np.arange(int(seconds * rate)) / rate
    ramp = np.clip(np.minimum(t, seconds - t) / 0.01, 0.0, 1.0)
    return np.asarray(0.5 * np.sin(2 * np.pi * freq * t) * 0.5 * (1 - np.cos(math.pi * ramp)),
                      dtype=np.float32)


SOUNDS: dict[str, Callable[[], Float32Array]] = {"hold_music": hold_music, "beep": beep}
