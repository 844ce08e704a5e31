// libpdrdma.so is built for Linux only (NativeAOT, linux-x64).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
