//! `kind: kafka`: one record per event on the configured topic, keyed by
//! request ID, value the CloudEvents document (structured mode, with the
//! `content-type` header of the CloudEvents Kafka binding). The partition
//! is chosen as Kafka's default partitioner chooses it (murmur2 of the
//! key), so every event of one request lands in one partition, in order.
//!
//! ipr does not create topics: a missing topic is a failed delivery that
//! says so.

use std::collections::BTreeMap;
use std::time::Duration;

use rskafka::client::partition::{Compression, UnknownTopicHandling};
use rskafka::client::ClientBuilder;
use rskafka::record::Record;
use rskafka::BackoffConfig;

use super::{cloudevent, Message, Sent, Transport};
use crate::config::KafkaTarget;
use crate::error::{Error, Result};

pub fn send(
    transport: &Transport,
    target: &KafkaTarget,
    timeout: Duration,
    m: &Message,
) -> Result<Sent> {
    let key = m.event.request.to_string();
    let record = Record {
        key: Some(key.clone().into_bytes()),
        value: Some(cloudevent::to_bytes(m)),
        headers: BTreeMap::from([(
            "content-type".to_string(),
            b"application/cloudevents+json; charset=UTF-8".to_vec(),
        )]),
        timestamp: chrono::Utc::now(),
    };
    let brokers = target.brokers.join(",");
    let brokers = brokers.as_str();
    let produce = async move {
        let client = ClientBuilder::new(target.brokers.clone())
            .client_id("ipr")
            .backoff_config(BackoffConfig {
                deadline: Some(timeout),
                ..BackoffConfig::default()
            })
            .build()
            .await
            .map_err(|e| Error::other(format!("kafka {brokers}: {e}")))?;
        let topics = client
            .list_topics()
            .await
            .map_err(|e| Error::other(format!("kafka {brokers}: {e}")))?;
        let Some(topic) = topics.iter().find(|t| t.name == target.topic) else {
            return Err(Error::other(format!(
                "kafka {brokers}: topic `{}` does not exist; create it (ipr does not create topics)",
                target.topic
            )));
        };
        let partitions: Vec<i32> = topic.partitions.iter().copied().collect();
        if partitions.is_empty() {
            return Err(Error::other(format!(
                "kafka {brokers}: topic `{}` has no partitions",
                target.topic
            )));
        }
        let partition = partitions[partition_for(key.as_bytes(), partitions.len())];
        let client = client
            .partition_client(target.topic.clone(), partition, UnknownTopicHandling::Error)
            .await
            .map_err(|e| Error::other(format!("kafka {brokers}: {e}")))?;
        client
            .produce(vec![record], Compression::NoCompression)
            .await
            .map_err(|e| Error::other(format!("kafka {brokers}: topic {}: {e}", target.topic)))?;
        Ok(Sent::ok())
    };
    transport.block_on(async move {
        match tokio::time::timeout(timeout, produce).await {
            Ok(r) => r,
            Err(_) => Err(Error::other(format!(
                "kafka {brokers}: no answer within {}",
                humantime::format_duration(timeout)
            ))),
        }
    })
}

/// The partition Kafka's default partitioner picks for `key`:
/// `toPositive(murmur2(key)) % partitions`.
pub fn partition_for(key: &[u8], partitions: usize) -> usize {
    (murmur2(key) & 0x7fff_ffff) as usize % partitions
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`).
fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values Kafka's own `UtilsTest.testMurmur2` checks.
    #[test]
    fn murmur2_matches_kafka() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (key, want) in cases {
            assert_eq!(
                murmur2(key) as i32,
                want,
                "{}",
                String::from_utf8_lossy(key)
            );
        }
    }
}
