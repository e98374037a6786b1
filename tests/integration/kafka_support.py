"""The embedded broker (`otelcol-swift kafka-dev`) as a child process, and independent readers."""
import signal
import subprocess
import time
import uuid

from confluent_kafka import Consumer

from conftest import BINARY


class KafkaDev:
    def __init__(self, partitions=4, topics=("otlp_spans", "otlp_metrics", "otlp_logs")):
        args = [str(BINARY), "kafka-dev", "--partitions", str(partitions)]
        for topic in topics:
            args += ["--topic", topic]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("bootstrap: "), f"kafka-dev did not start: {line}"
        self.bootstrap = line.split(" ", 1)[1].strip()
        assert self.process.stdout.readline().startswith("topics: ")

    def set_brokers(self, up: bool):
        """Fault injection: every broker down (connections closed and refused) or back up."""
        self.process.send_signal(signal.SIGUSR2 if up else signal.SIGUSR1)
        assert self.process.stdout.readline().strip() == ("brokers up" if up else "brokers down")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def consume_all(bootstrap, topic, expected_items, count_items, timeout=30.0):
    """Reads `topic` from the beginning with confluent-kafka until `count_items` over the records
    read reaches `expected_items` (or the deadline passes); returns the records."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    records, items = [], 0
    deadline = time.monotonic() + timeout
    try:
        while items < expected_items and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            records.append(message)
            items += count_items(message.value())
    finally:
        consumer.close()
    return records


def kcat(bootstrap, topic, fmt="%k\t%p\t%S\n"):
    """kcat's view of a topic: one formatted line per record."""
    result = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-f", fmt],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]
