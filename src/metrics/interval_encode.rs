//! One interval-log line of a [`FlatHistogram`], byte for byte what `hdrhistogram`'s
//! `IntervalLogWriter` with a `V2DeflateSerializer` writes for the same counts
//! (`Tag=…,start,length,max,` and the base64 of the V2 + deflate serialisation), without
//! building an `hdrhistogram` value and with one zlib compressor reused for every line
//! (a compressor's set-up costs more than compressing one interval).

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use flate2::Compression;
use flate2::write::ZlibEncoder;

use super::flat_histogram::FlatHistogram;

/// `hdrhistogram`'s V2 cookie (`0x1c849303 | 0x10`).
const V2_COOKIE: u32 = 0x1c84_9313;
/// `hdrhistogram`'s V2 compressed cookie (`0x1c849304 | 0x10`).
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;

/// Writes interval-log lines, reusing its buffers and compressor.
pub struct IntervalEncoder {
    payload: Vec<u8>,
    compressor: ZlibEncoder<Vec<u8>>,
    text: String,
}

impl std::fmt::Debug for IntervalEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntervalEncoder").finish_non_exhaustive()
    }
}

impl Default for IntervalEncoder {
    fn default() -> Self {
        IntervalEncoder {
            payload: Vec::new(),
            compressor: ZlibEncoder::new(Vec::new(), Compression::default()),
            text: String::new(),
        }
    }
}

/// `hdrhistogram`'s `duration_as_fp_seconds`.
fn seconds(duration: Duration) -> f64 {
    duration.as_secs() as f64 + f64::from(duration.subsec_nanos()) / 1_000_000_000_f64
}

/// ZigZag then LEB128-64b9B (`hdrhistogram`'s `zig_zag_encode` and `varint_write`: the ninth
/// byte carries the top 8 bits as they are).
fn put_varint(value: i64, out: &mut Vec<u8>) {
    let mut rest = ((value << 1) ^ (value >> 63)) as u64;
    for _ in 0..8 {
        if rest >> 7 == 0 {
            out.push(rest as u8);
            return;
        }
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

impl IntervalEncoder {
    /// The V2 serialisation of `histogram` (header, then counts with runs of zeros as negative
    /// run lengths) into `self.payload`.
    fn encode_v2(&mut self, histogram: &FlatHistogram) -> Result<(), String> {
        let (low, high, sigfig) = FlatHistogram::bounds();
        let out = &mut self.payload;
        out.clear();
        out.extend_from_slice(&V2_COOKIE.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&u32::from(sigfig).to_be_bytes());
        out.extend_from_slice(&low.to_be_bytes());
        out.extend_from_slice(&high.to_be_bytes());
        out.extend_from_slice(&1.0f64.to_be_bytes());
        let header = out.len();
        let counts = histogram.counts_through_max();
        let mut index = 0;
        while index < counts.len() {
            let count = counts[index];
            index += 1;
            let mut zeros: i64 = 0;
            if count == 0 {
                zeros = 1;
                while index < counts.len() && counts[index] == 0 {
                    zeros += 1;
                    index += 1;
                }
            }
            let value = if zeros > 1 {
                -zeros
            } else {
                i64::try_from(count).map_err(|_| "a count does not fit a V2 serialisation")?
            };
            put_varint(value, out);
        }
        let length = (out.len() - header) as u32;
        out[4..8].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }

    /// Append the log line of `histogram` for the interval `[start, start + length)` tagged
    /// `tag` to `log`.
    pub fn write_line(
        &mut self,
        log: &mut Vec<u8>,
        tag: &str,
        start: Duration,
        length: Duration,
        histogram: &FlatHistogram,
    ) -> Result<(), String> {
        self.encode_v2(histogram)?;
        let compressed = self.compressor.get_mut();
        compressed.clear();
        compressed.extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
        compressed.extend_from_slice(&0u32.to_be_bytes());
        self.compressor
            .write_all(&self.payload)
            .map_err(|error| error.to_string())?;
        // Finishing the stream hands its bytes back and readies the compressor for the next.
        let mut compressed = self
            .compressor
            .reset(Vec::new())
            .map_err(|error| error.to_string())?;
        let length_field = (compressed.len() - 8) as u32;
        compressed[4..8].copy_from_slice(&length_field.to_be_bytes());
        writeln_line(
            log,
            tag,
            start,
            length,
            histogram.max(),
            &compressed,
            &mut self.text,
        );
        // The buffer goes back for the next line.
        let _ = std::mem::replace(self.compressor.get_mut(), compressed);
        Ok(())
    }
}

fn writeln_line(
    log: &mut Vec<u8>,
    tag: &str,
    start: Duration,
    length: Duration,
    max: u64,
    compressed: &[u8],
    text: &mut String,
) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        log,
        "Tag={tag},{:.3},{:.3},{:.3},",
        seconds(start),
        seconds(length),
        max as f64 / 1.0_f64
    );
    text.clear();
    base64::engine::general_purpose::STANDARD.encode_string(compressed, text);
    log.extend_from_slice(text.as_bytes());
    log.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    use rand::Rng;

    #[test]
    fn lines_are_hdrhistograms_byte_for_byte() {
        let mut rng = crate::seed::stream(3, "interval-encode-test");
        let mut encoder = IntervalEncoder::default();
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for round in 0..40u32 {
            let mut flat = FlatHistogram::new();
            let samples = match round % 4 {
                0 => 1,
                1 => rng.random_range(1..50),
                _ => rng.random_range(1..20_000),
            };
            let spread = [0, 3_000, 5_000_000, 100_000_000_000][(round % 4) as usize];
            for _ in 0..samples {
                flat.record(rng.random_range(0..=spread));
            }
            let hdr = flat.to_hdr();
            let start = Duration::from_millis(u64::from(round) * 10_000 + 7);
            let length = Duration::from_secs(10);
            encoder
                .write_line(&mut ours, "e2e", start, length, &flat)
                .unwrap();
            let mut serializer = V2DeflateSerializer::new();
            let mut writer = IntervalLogWriterBuilder::new()
                .begin_log_with(&mut theirs, &mut serializer)
                .unwrap();
            writer
                .write_histogram(&hdr, start, length, Tag::new("e2e"))
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "round {round}"
            );
        }
    }
}
