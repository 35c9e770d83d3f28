#!/usr/bin/env bash
# The hostile-inputs matrix (docs/reliability.md): every input surface x every fault tried,
# with what Radius does, checked. Each row runs the built `radius` on a broken input made
# here and compares the exit code and a phrase of its message with what the row promises;
# the script prints the matrix as Markdown and exits 1 if any row behaves otherwise.
#   bash scripts/hostile_inputs.sh [RADIUS]      (RADIUS: the program, default build/radius)
# The test suite runs it (ctest "hostile inputs").
set -uo pipefail
cd "$(dirname "$0")/.."
radius=$(realpath "${1:-build/radius}")
tiny=$(realpath models/tiny.spec)
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
failures=0

# row SURFACE FAULT "WHAT RADIUS DOES" RC PHRASE -- COMMAND...
row() {
  local surface=$1 fault=$2 does=$3 want_rc=$4 phrase=$5
  shift 6
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  local result="ok"
  if [ "$rc" != "$want_rc" ] || ! grep -qF -- "$phrase" <<<"$out"; then
    result="**CHANGED** (exit $rc): $(tail -2 <<<"$out" | tr '\n' ' ' | cut -c1-160)"
    failures=$((failures + 1))
  fi
  echo "| $surface | $fault | $does | $want_rc | \`$phrase\` | $result |"
}

# ---- the inputs ------------------------------------------------------------------------
"$radius" synth --out "$w/data" --count 40 --min-side 40 --max-side 60 --model-side 32 --seed 9 >/dev/null
"$radius" train "$w/data" --model "$tiny" --epochs 1 --batch 8 --threads 1 --quiet --out "$w/run" >/dev/null 2>&1 ||
  { echo "the base run failed"; exit 1; }
image=$(ls "$w/data/test/fractured/"* | head -1)
bad="$w/bad/train/fractured"
cp -r "$w/data" "$w/bad"
: >"$bad/empty.png"
head -c 300 "$(ls "$w/data/train/fractured/"*.jpg | head -1)" >"$bad/truncated.jpg"
python3 - "$bad" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = lambda w, h, depth, color, rows: (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0))
                                        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
d = sys.argv[1]
open(d + "/huge.png", "wb").write(png(100000, 100000, 8, 2, b"\0" * 16))
open(d + "/gray16.png", "wb").write(png(8, 8, 16, 0, b"".join(b"\0" + bytes(range(16)) for _ in range(8))))
open(d + "/rgba.png", "wb").write(png(8, 8, 8, 6, b"".join(b"\0" + bytes(range(32)) for _ in range(8))))
open(d + "/text.png", "wb").write(b"these are not the pixels you are looking for\n")
PY
"$radius" train "$w/bad" --model "$tiny" --epochs 1 --batch 8 --threads 1 --quiet --out "$w/badrun" >"$w/badrun.log" 2>&1
bad_rc=$?
# What the training run with the bad images wrote: its bad-file list, and its exit code.
bad_csv() { cat "$w/badrun/bad_files.csv" 2>/dev/null; return "$bad_rc"; }

# DICOM (a build with DCMTK): a small DICOM data set with broken files among them, made with
# DCMTK's dcmodify from good ones; one training run over it, then its bad-file list.
dicom_rc=1
dicom_built=0
if "$radius" synth --out "$w/dicom" --format dicom --count 40 --min-side 40 --max-side 60 --model-side 32 --seed 9 \
     >/dev/null 2>&1 && command -v dcmodify >/dev/null; then
  dbad="$w/dicom/train/fractured"
  good=$(ls "$dbad/"*.dcm | head -1)
  head -c $(($(stat -c %s "$good") - 200)) "$good" >"$dbad/cut.dcm"
  { head -c 128 /dev/zero; printf 'DICM'; head -c 300 /dev/zero | tr '\0' 'x'; } >"$dbad/garbage.dcm"
  cp "$good" "$dbad/multi.dcm" && dcmodify -nb -i "(0028,0008)=2" "$dbad/multi.dcm" >/dev/null 2>&1
  cp "$good" "$dbad/huge.dcm" && dcmodify -nb -m "(0028,0010)=65535" -m "(0028,0011)=65535" "$dbad/huge.dcm" >/dev/null 2>&1
  cp "$good" "$dbad/report.dcm" && dcmodify -nb -e "(7fe0,0010)" "$dbad/report.dcm" >/dev/null 2>&1
  "$radius" train "$w/dicom" --model "$tiny" --epochs 1 --batch 8 --threads 1 --quiet --out "$w/dicomrun" \
    >"$w/dicomrun.log" 2>&1
  dicom_rc=$?
  dicom_built=1
fi
dicom_csv() { cat "$w/dicomrun/bad_files.csv" 2>/dev/null; return "$dicom_rc"; }

mkdir -p "$w/nan" "$w/garbage" "$w/short"
cp "$w/run/model.spec" "$w/run/config.json" "$w/nan/"
python3 - "$w/run/weights.safetensors" "$w/nan/weights.safetensors" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", b[:8])[0]
b[8 + n:12 + n] = struct.pack("<f", float("nan"))
open(sys.argv[2], "wb").write(b)
PY
printf '\x20\x00\x00\x00\x00\x00\x00\x00{"0.weight": {"dtype": "F32",   ' >"$w/garbage/w.safetensors"
head -c 2000 "$w/run/weights.safetensors" >"$w/short/w.safetensors"
printf 'input height=32 width=32 channels=3\nconv2d filters=8 kernel=3 activation=relu\nmaxpool2d pool=2\nflatten\ndense units=1 activation=sigmoid\n' >"$w/other.spec"
printf 'input height=32 width=32 channels=3\nconv2d filters=8 kernel=3 activaton=relu\n' >"$w/typo.spec"
printf 'path,label\n"%s,fractured\n' "$image" >"$w/quote.csv"
printf 'file,class\n%s,fractured\n' "$image" >"$w/columns.csv"
cp -r "$w/run" "$w/corrupt" && echo '{"model": "model.spec", "epochs": ' >"$w/corrupt/config.json"
cp -r "$w/run" "$w/edited" && sed -i 's/"lr": [^,]*/"lr": -0.001/' "$w/edited/config.json"
touch "$w/a-file"
printf 'input height=1024 width=1024 channels=3\nconv2d filters=256 kernel=3 activation=relu\nmaxpool2d pool=8\nflatten\ndense units=1 activation=sigmoid\n' >"$w/huge.spec"
mkdir -p "$w/three/a" "$w/three/b" "$w/three/c"
for c in a b c; do cp "$image" "$w/three/$c/"; done

# ---- the matrix -------------------------------------------------------------------------
echo "| surface | fault | what Radius does | exit | says | checked |"
echo "| --- | --- | --- | --- | --- | --- |"
row "image" "empty file" "skipped, listed in bad_files.csv; training goes on" 0 "empty.png,empty_file" -- bad_csv
row "image" "truncated JPEG" "skipped and listed; training goes on" 0 "truncated.jpg,truncated" -- bad_csv
row "image" "100000 x 100000 PNG header (a pixel bomb)" "skipped before any allocation" 0 "huge.png,too_large" -- bad_csv
row "image" "text named .png" "skipped, the first bytes shown" 0 "text.png,unknown_format" -- bad_csv
row "image" "16-bit gray, RGBA (other channel counts)" "decoded to the model's channels" 0 "2 images:" -- \
  "$radius" predict "$w/run" "$bad/gray16.png" "$bad/rgba.png"
row "image" "every input unreadable" "nothing to predict: an error" 1 "none of the 1 files could be read" -- "$radius" predict "$w/run" "$bad/empty.png"
if [ "$dicom_built" = 1 ]; then
  row "dicom" "cut inside the pixel data" "skipped and listed; training goes on" 0 "cut.dcm,truncated" -- dicom_csv
  row "dicom" "DICM marker, then garbage" "skipped and listed" 0 "garbage.dcm," -- dicom_csv
  row "dicom" "multi-frame object" "skipped: one radiograph per file" 0 "multi.dcm,unsupported" -- dicom_csv
  row "dicom" "65535 x 65535 header over a small image" "skipped before any allocation" 0 "huge.dcm,too_large" -- dicom_csv
  row "dicom" "no pixel data (a report)" "skipped: not an image" 0 "report.dcm,unsupported" -- dicom_csv
else
  echo "| dicom | (every fault) | not checked: this build has no DICOM support (RADIUS_DICOM) or no dcmodify | | | skipped |"
fi
row "weights" "NaN in a weight" "refused on load, naming the tensor" 1 "holds NaN at element 0" -- \
  "$radius" predict "$w/nan" "$image"
row "weights" "malformed JSON header" "refused, naming the file" 1 "w.safetensors" -- \
  "$radius" predict "$w/garbage/w.safetensors" "$image" --model "$tiny"
row "weights" "truncated file" "refused, naming the file" 1 "w.safetensors" -- \
  "$radius" predict "$w/short/w.safetensors" "$image" --model "$tiny"
row "checkpoint" "another model's checkpoint" "refused, every mismatch listed" 1 "does not match the model" -- \
  "$radius" evaluate "$w/run/last.ckpt.safetensors" "$w/data" --model "$w/other.spec"
row "model spec" "mistyped key" "refused with file:line and the keys it takes" 1 "typo.spec:2" -- \
  "$radius" summary "$w/typo.spec"
row "manifest" "unbalanced quote" "refused with the file" 1 "quote.csv" -- \
  "$radius" train "$w/quote.csv" --model "$tiny" --out "$w/r-quote"
row "manifest" "no path/label columns" "refused: the header must name them" 1 "'path' and 'label'" -- \
  "$radius" train "$w/columns.csv" --model "$tiny" --out "$w/r-columns"
row "data" "three class folders" "refused up front, classes and counts named" 1 "3 classes" -- \
  "$radius" train "$w/three" --model "$tiny" --out "$w/r-three"
row "config.json" "corrupt JSON on --resume" "refused, naming config.json" 1 "config.json" -- \
  "$radius" train --resume "$w/corrupt"
row "config.json" "a value out of its option's range (lr -0.001)" "refused, naming the key and the range" 1 \
  "config.json: 'lr' must be > 0, got -0.001" -- "$radius" train --resume "$w/edited"
row "output" "disk full (a 16 kB file-size limit)" "fails naming the file; earlier files intact" 1 "File too large" -- \
  bash -c "trap '' XFSZ; ulimit -f 16; exec '$radius' train '$w/data' --model '$tiny' --epochs 1 --batch 8 --threads 1 --quiet --out '$w/r-full'"
row "output" "--out below a regular file" "refused, naming the path" 1 "a-file" -- \
  "$radius" train "$w/data" --model "$tiny" --epochs 1 --out "$w/a-file/run"
row "memory" "--batch 100000 of 1024x1024 inputs" "refused before allocating: needed and fitting batch" 1 "a batch of at most" -- \
  "$radius" train "$w/data" --model "$w/huge.spec" --batch 100000 --epochs 1 --threads 1 --out "$w/r-huge"
row "command line" "--lr abc" "usage error in words" 2 "--lr: 'abc' is not a number" -- \
  "$radius" train "$w/data" --lr abc
echo
if ((failures)); then
  echo "$failures row(s) behave otherwise than the matrix says"
  exit 1
fi
echo "every row behaves as the matrix says"
