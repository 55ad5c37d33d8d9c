#!/usr/bin/env bash
# Benchmark of the ResizeImage thumbnail path (issue 4, Performance): our Go
# path, the original's Pillow Image.thumbnail((200,200)) + save q85, and
# vipsthumbnail, on real photos from Debian packages, per size class.
#
# usage: hack/bench-lambda/run.sh [-n ITERS] [-p jpegscale|resize] [-g]
#
#   -n  thumbnails per image; the median is reported (default 5)
#   -p  Go path: "resize" (lambda/resize.Thumbnail, what the Lambda runs;
#       the default) or "jpegscale" (jpegscale.Decode + imaging Lanczos +
#       encode, the same steps without the Lambda's option handling)
#   -g  run resize.Collect between thumbnails, outside the timing,
#       as the Lambda handler does before each invocation: the Go peak RSS is
#       then one thumbnail's, not one plus the previous one's garbage
#
# Each path runs in its own process per size class, so peak RSS (from
# /usr/bin/time %M) is per process and per class. vipsthumbnail is a CLI:
# it runs once per thumbnail, so its times include process start.
# The machine is shared: compare the ratios within one run, not across runs.
# Work files (converted images, thumbnails) go to $BENCH_DIR
# (default /tmp/bench-lambda); nothing is written to the repository.
set -euo pipefail

ITERS=5
GOPATH_MODE=resize
GOGCFLAG=""
while getopts "n:p:g" opt; do
	case $opt in
	n) ITERS=$OPTARG ;;
	p) GOPATH_MODE=$OPTARG ;;
	g) GOGCFLAG=-gc ;;
	*) sed -n '2,24p' "$0" >&2; exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/hack/bench-lambda
W=${BENCH_DIR:-/tmp/bench-lambda}
PY=/usr/bin/python3 # Debian's python3-pil is installed for the system Python.

# Inputs. Installing needs root; without it, say what is missing.
need=()
for p in python3-pil libvips-tools plasma-workspace-wallpapers mate-backgrounds libjpeg-turbo-progs imagemagick time; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
	echo "installing ${need[*]}" >&2
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y "${need[@]}" >&2
	else
		sudo apt-get install -y "${need[@]}" >&2
	fi
fi

mkdir -p "$W/img" "$W/go" "$W/pillow" "$W/vips"
rm -f "$W"/go/* "$W"/pillow/* "$W"/vips/*
(cd "$ROOT" && go build -o "$W/benchthumb" ./lambda/internal/jpegscale/cmd/benchthumb)

# The image set: photos from the packages as they are where they fit a class,
# converted (resized, re-encoded progressive with lossless jpegtran, or
# turned into PNG) where the packages lack them. Names say what they are.
src() { # the first file under the wallpaper dirs named $1 whose interlace is $2 and sampling $3
	find /usr/share/wallpapers /usr/share/backgrounds -type f -path "*$1" | sort | while read -r f; do
		if [ "$(identify -format '%[interlace] %[jpeg:sampling-factor]' "$f")" = "$2 $3" ]; then
			echo "$f"
			break
		fi
	done
}
prep() { # prep NAME COMMAND...: make $W/img/NAME once
	local out=$W/img/$1
	shift
	[ -s "$out" ] || "$@" "$out"
}
link() { ln -sf "$1" "$2"; }
medium_base=$(src 2560x1600.jpg None 2x2,1x1,1x1)
medium_444=$(src 2560x1600.jpg None 1x1,1x1,1x1)
medium_prog=$(src 2560x1600.jpg JPEG 1x1,1x1,1x1)
medium_64=$(src 3200x2000.jpg None 1x1,1x1,1x1)
large_420=$(src 5120x2880.jpg None 2x2,1x1,1x1)
large_422=$(src 5120x2880.jpg None 2x1,1x1,1x1)
large_prog=$(src 5120x2880.jpg JPEG 1x1,1x1,1x1)
large_eleph=/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg
for v in medium_base medium_444 medium_prog medium_64 large_420 large_422 large_prog; do
	[ -n "${!v}" ] || { echo "no source photo for $v; are the wallpaper packages installed?" >&2; exit 1; }
done

prep small-1600x1000-420.jpg convert "$medium_base" -resize 1600x1000 -quality 90 -sampling-factor 2x2
prep small-1600x1000-prog.jpg sh -c 'jpegtran -progressive -copy all "$1" > "$2"' _ "$W/img/small-1600x1000-420.jpg"
# mate-backgrounds' nature photos are small: baseline 4:2:2, progressive 4:2:0.
for p in nature/Dune.jpg nature/GreenMeadow.jpg nature/FreshFlower.jpg abstract/Elephants.jpg; do
	f=/usr/share/backgrounds/mate/$p
	[ -f "$f" ] && link "$f" "$W/img/small-$(identify -format '%wx%h' "$f")-$(basename "$p")"
done
link "$medium_base" "$W/img/medium-2560x1600-420.jpg"
link "$medium_444" "$W/img/medium-2560x1600-444.jpg"
link "$medium_prog" "$W/img/medium-2560x1600-prog.jpg"
link "$medium_64" "$W/img/medium-3200x2000-444.jpg"
link "$large_420" "$W/img/large-5120x2880-420.jpg"
link "$large_422" "$W/img/large-5120x2880-422.jpg"
link "$large_prog" "$W/img/large-5120x2880-prog.jpg"
[ -f "$large_eleph" ] && link "$large_eleph" "$W/img/large-5640x3172-prog.jpg"
prep large-5120x2880-420-prog.jpg sh -c 'jpegtran -progressive -copy all "$1" > "$2"' _ "$large_420"
prep small-1600x1000.png convert "$medium_base" -resize 1600x1000 -strip
prep medium-2560x1600.png convert "$medium_444" -strip
for p in $(find /usr/share/wallpapers -name 3840x2160.png | sort | head -2); do
	link "$p" "$W/img/medium-3840x2160-$(basename "$(dirname "$(dirname "$(dirname "$p")")")").png"
done
prep large-5120x2880.png convert "$large_420" -strip
prep large-5120x2880-alpha.png convert "$large_422" -strip -alpha set -channel A -evaluate set 80% +channel

classes=(small-jpg medium-jpg large-jpg small-png medium-png large-png)
files_of() { # class -> files
	local size=${1%-*} ext=${1#*-}
	ls "$W"/img/"$size"-*."$ext" 2>/dev/null | sort
}

peak() { # command...: run it under /usr/bin/time, print its stdout, append peak RSS (KiB) to $W/rss
	/usr/bin/time -f %M -o "$W/rss.one" nice "$@"
	cat "$W/rss.one" >>"$W/rss"
}

declare -A rss n
for c in "${classes[@]}"; do
	mapfile -t files < <(files_of "$c")
	((${#files[@]})) || continue
	n[$c]=${#files[@]}
	# Go.
	: >"$W/rss"
	peak "$W/benchthumb" time -path "$GOPATH_MODE" $GOGCFLAG -iters "$ITERS" -out "$W/go" "${files[@]}" >"$W/go/$c.tsv"
	rss[$c,go]=$(sort -n "$W/rss" | tail -1)
	# Pillow.
	: >"$W/rss"
	peak "$PY" "$HERE/pillow_thumb.py" "$ITERS" "$W/pillow" "${files[@]}" >"$W/pillow/$c.tsv"
	rss[$c,pillow]=$(sort -n "$W/rss" | tail -1)
	# vipsthumbnail, one process per thumbnail.
	: >"$W/rss"
	: >"$W/vips/$c.tsv"
	for f in "${files[@]}"; do
		b=$(basename "$f")
		ext=${b##*.}
		opt=""
		[ "$ext" = jpg ] && opt="[Q=85]"
		ts=()
		for ((i = 0; i < ITERS; i++)); do
			t0=$(date +%s%N)
			peak vipsthumbnail "$f" -s 200x200 -o "$W/vips/$b.thumb.$ext$opt"
			t1=$(date +%s%N)
			ts+=($(((t1 - t0) / 1000)))
		done
		med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n "$((ITERS / 2 + 1))p")
		printf '%s\t%s\n' "$b" "$(awk -v u="$med" 'BEGIN{printf "%.1f", u/1000}')" >>"$W/vips/$c.tsv"
	done
	rss[$c,vips]=$(sort -n "$W/rss" | tail -1)
	# Quality against a full-resolution Lanczos reference: the Go path's
	# and Pillow's thumbnails before encoding (what scaled decoding and
	# resampling cost), then the encoded thumbnails.
	: >"$W/psnr.$c"
	for f in "${files[@]}"; do
		b=$(basename "$f")
		"$W/benchthumb" psnr "$f" "$W/pillow/$b.raw.png" "$W/go/$b.thumb" "$W/pillow/$b.thumb" |
			awk -v b="$b" '{v[NR] = $2} END {
				# A PNG source gets a lossless PNG thumbnail: the file is the
				# resampled image of the path measured (lambda/resize
				# box-reduces PNGs before Lanczos, which benchthumb does not).
				if (b ~ /\.png$/) v[1] = v[3]
				printf "%s\t%s\t%s\t%s\t%s\n", b, v[1], v[2], v[3], v[4]}' >>"$W/psnr.$c"
	done
done

# Per-image detail, then the per-class summary. Times: the median over a
# class's images of each image's median time.
median() { sort -n | awk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }
echo "## Per image"
echo
echo "Median of $ITERS, wall ms and process CPU ms (all threads; steadier than wall time on a shared"
echo "machine). PSNR in dB against the source decoded in full and resized with Lanczos:"
echo "\"resampled\" is the thumbnail before encoding (Go: jpegscale + imaging Lanczos; Pillow: thumbnail()),"
echo "\"encoded\" the file written (JPEG q85, or PNG for PNG sources)."
echo
echo "| image | denom | go ms | pillow ms | go CPU ms | pillow CPU ms | vips ms (incl. process start) | go resampled | pillow resampled | go encoded | pillow encoded |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for c in "${classes[@]}"; do
	[ -n "${n[$c]:-}" ] || continue
	paste "$W/go/$c.tsv" "$W/pillow/$c.tsv" "$W/vips/$c.tsv" "$W/psnr.$c" |
		awk -F'\t' '{printf "| %s | 1/%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $5, $2, $8, $6, $11, $13, $15, $16, $17, $18}'
done
echo
echo "## Per size class (go path: $GOPATH_MODE${GOGCFLAG:+, GC between thumbnails})"
echo
echo "Time: the median over the class's images of each image's median. Peak RSS: the largest of the"
echo "class's processes (Go and Pillow: one process for the class; vips: one per thumbnail). PSNR: the"
echo "class's minimum."
echo
echo "| class | images | go ms | pillow ms | vips ms | go/pillow time | go/pillow CPU | go MB | pillow MB | vips MB | go/pillow RSS | go resampled PSNR | pillow resampled PSNR | go encoded PSNR | pillow encoded PSNR |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for c in "${classes[@]}"; do
	[ -n "${n[$c]:-}" ] || continue
	g=$(cut -f2 "$W/go/$c.tsv" | median)
	p=$(cut -f2 "$W/pillow/$c.tsv" | median)
	v=$(cut -f2 "$W/vips/$c.tsv" | median)
	gc=$(cut -f6 "$W/go/$c.tsv" | median)
	pc=$(cut -f5 "$W/pillow/$c.tsv" | median)
	q=()
	for col in 2 3 4 5; do
		q+=("$(cut -f$col "$W/psnr.$c" | sort -g | head -1)")
	done
	awk -v c="$c" -v n="${n[$c]}" -v g="$g" -v p="$p" -v v="$v" -v gc="$gc" -v pc="$pc" \
		-v rg="${rss[$c,go]}" -v rp="${rss[$c,pillow]}" -v rv="${rss[$c,vips]}" \
		-v q1="${q[0]}" -v q2="${q[1]}" -v q3="${q[2]}" -v q4="${q[3]}" 'BEGIN{
		printf "| %s | %d | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.0f | %.0f | %.0f | %.2fx | %s | %s | %s | %s |\n",
			c, n, g, p, v, g/p, gc/pc, rg/1024, rp/1024, rv/1024, rg/rp, q1, q2, q3, q4}'
done
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); $(go version | cut -d' ' -f3); Pillow $("$PY" -c 'import PIL; print(PIL.__version__)'); $(vips --version | head -1)"
