/// Each command's synopsis, shown as USAGE by `--help` and printed word for word in the
/// README's Commands section (EndToEndTests.ReadmeSynopsisTests keeps the two the same).
enum Synopsis {
    static let build = "swiftdock build [-t REF]... [-f DOCKERFILE] [--build-arg K=V]... [--target STAGE] [--platform os/arch] [--run exec|record] [--format oci|docker] [--compression-level N] [--source-date-epoch T] [-q] [--pull] [--no-cache] [--no-cache-filter STAGE]... [--cache-from SPEC]... [--cache-to SPEC]... [--push] [--output type=registry[,name=REF]] [--sbom] [--provenance[=mode=min|max]] [--jobs N] [--secret id=ID[,src=FILE|env=VAR][,type=file|env|google-token]]... [--ssh default|ID[=SOCKET|KEY[,KEY]]]... CONTEXT"
    static let images = "swiftdock images [-a] [-q] [--digests] [--filter dangling=true|false] [--format table|json] [--no-trunc] [REPOSITORY[:TAG]]"
    static let tag = "swiftdock tag SOURCE TARGET"
    static let rmi = "swiftdock rmi [-f] IMAGE..."
    static let inspect = "swiftdock inspect [-f TEMPLATE] [--remote [--platform os/arch]] [--attestations] IMAGE..."
    static let save = "swiftdock save [--format docker|oci] -o PATH IMAGE..."
    static let pull = "swiftdock pull [--platform os/arch] [--all-layers] [--jobs N] [-q] REF|oci:DIR[:NAME]|oci-archive:FILE[:NAME]|docker-archive:FILE[:REF]"
    static let push = "swiftdock push [--jobs N] [-q] IMAGE|oci:DIR[:NAME]|oci-archive:FILE[:NAME]|docker-archive:FILE[:REF] [DEST_REF|oci:DIR[:NAME]|oci-archive:FILE[:NAME]|docker-archive:FILE[:REF]]"
    static let prune = "swiftdock system prune [-a] [-f] [--filter until=DURATION]"
    static let df = "swiftdock system df"
    static let login = "swiftdock login [-u USER] [--password-stdin] REGISTRY"
    static let logout = "swiftdock logout REGISTRY"
    static let run = "swiftdock run [--rm] [-e K=V]... [-w DIR] [-u USER] [--entrypoint E] [--network bridge|host|none] IMAGE [CMD...]"
    static let version = "swiftdock version"
    static let sign = "swiftdock sign --key KEY REF"
    static let verify = "swiftdock verify --key PUB REF"

    /// `swiftdock vertex …`, one per subcommand (the README lists each).
    enum Vertex {
        static let run = "swiftdock vertex run IMAGE --project P --region R [--machine-type T] [--accelerator TYPE[:N]] [--command C]... [--arg A]... [--env K=V]... [--service-account SA] [--display-name N] [--timeout 3600s] [--spot | --flex-start [--max-wait 3600s]] [--disable-retries] [--notebook PATH [--workdir DIR] [--outputs gs://BUCKET/PREFIX] [--parameters NAME=VALUE]... [--parameters-file FILE.yaml|json]] [--no-pin] [--wait] [--dry-run] [--local [--gcs-dir DIR]]"
        static let logs = "swiftdock vertex logs JOB_ID --project P --region R [--follow]"
        static let cancel = "swiftdock vertex cancel JOB_ID --project P --region R [--wait]"
        static let workbenchCreate = "swiftdock vertex workbench create NAME --image IMAGE --project P --zone Z [--machine-type T] [--post-startup-script gs://…] [--idle-timeout 3600s] [--service-account SA] [--wait] [--dry-run]"
        static func workbench(_ verb: String) -> String { "swiftdock vertex workbench \(verb) NAME --project P --zone Z [--wait]" }
        static let workbenchDescribe = "swiftdock vertex workbench describe NAME --project P --zone Z [--json]"
        /// `schedule NAME …` is `schedule create NAME …` (the default subcommand).
        static let schedule = "swiftdock vertex schedule NAME --cron \"0 6 * * *\" --project P --region R --service-account SA [--time-zone TZ] [--dry-run] -- IMAGE [vertex run flags]"
        static let scheduleCreate = "swiftdock vertex schedule create NAME --cron \"0 6 * * *\" --project P --region R --service-account SA [--time-zone TZ] [--dry-run] -- IMAGE [vertex run flags]"
        static let scheduleList = "swiftdock vertex schedule list --project P --region R"
        static let scheduleRun = "swiftdock vertex schedule run NAME --project P --region R [--wait]"
        static func schedule(_ verb: String) -> String { "swiftdock vertex schedule \(verb) NAME --project P --region R" }
    }
}
