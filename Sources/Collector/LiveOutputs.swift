import Output

package extension OutputSet {
    /// The outputs a run's options ask for: stdout and a file behind memory queues (the
    /// reader never waits for them), collectors behind spools on disk. `onSettled` is
    /// called by a queue's thread each time it delivered.
    static func live(_ options: LiveOptions, onSettled: @escaping @Sendable () -> Void) throws -> OutputSet {
        var outputs: [(name: String, channel: any OutputChannel)] = []
        /// Adds an output, leaving out what its `output.*_omit` names.
        func add(_ name: String, _ channel: some OutputChannel) {
            outputs.append((name, options.events.omissions[name].map { FieldOmitting(channel, omitting: $0) } ?? channel))
        }
        if options.stdout { add("stdout", QueuedSink(FileDescriptorSink(), capacityBytes: options.outputQueueBytes, onSettled: onSettled)) }
        if let file = options.file {
            let sink = try RotatingFileSink(path: file.path, maxBytes: file.maxBytes, generations: file.generations)
            add("file", QueuedSink(sink, capacityBytes: options.outputQueueBytes, onSettled: onSettled))
        }
        if let syslog = options.syslog {
            let transport = SyslogTransport(host: syslog.host, port: syslog.port, protocol: syslog.transport,
                                            hostname: options.events.nodeName ?? "", tls: options.syslogTLS)
            add("syslog", try SpooledSink(directory: options.spoolDirectory + "/syslog", maxBytes: options.spoolBytes, transport: transport))
        }
        if let http = options.http {
            guard let transport = HTTPTransport(url: http.url, format: http.format, index: http.index, headers: http.headers, tls: http.tls) else {
                throw SinkError("output.http: '\(http.url)' is not an http:// or https:// URL")
            }
            add("http", try SpooledSink(directory: options.spoolDirectory + "/http", maxBytes: options.spoolBytes, transport: transport))
        }
        return OutputSet(outputs)
    }
}
